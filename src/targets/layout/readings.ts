import { statSync } from 'node:fs';
import { layoutReadings } from '../../ref/parse.js';
import type { OciLayoutReference } from '../../ref/types.js';

/**
 * The reading of an `oci:` reference whose path is an existing directory, longest path first
 * (`oci:DIR:localhost:5000/x:tag` is DIR and the ref name `localhost:5000/x:tag` when DIR exists);
 * the parsed reading when no path exists yet, as for a layout about to be created.
 */
export function settleLayoutReference(ref: OciLayoutReference): OciLayoutReference {
  return layoutReadings(ref).find((reading) => isDirectory(reading.path)) ?? ref;
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
