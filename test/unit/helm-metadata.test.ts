import { describe, expect, it } from 'vitest';
import { helmAnnotations, sourceDateEpoch } from '../../src/artifacts/helm.js';
import { goJson, parseChartYaml } from '../../src/artifacts/helm-metadata.js';
import { UsageError } from '../../src/errors.js';

const chartYaml = `apiVersion: v2
name: mychart
version: 0.3.1
description: "A demo chart <b>"
appVersion: 1.16
home: https://example.com
sources: [https://github.com/x/y, https://z]
maintainers:
  - name: Ann
    email: ann@example.com
  - name: Bob
keywords: []
deprecated: false
type: application
unknownKey: 5
annotations:
  zeta: last
  category: demo
  org.opencontainers.image.title: other
dependencies:
  - name: dep
    repository: ""
    version: 1.x
`;

describe("Helm's chart metadata", () => {
  it("writes Helm's Metadata JSON: its field order, strings kept as written, empty and unknown keys left out", () => {
    expect(goJson(parseChartYaml(chartYaml, 'c.tgz'))).toBe(
      '{"name":"mychart","home":"https://example.com","sources":["https://github.com/x/y","https://z"],' +
        '"version":"0.3.1","description":"A demo chart \\u003cb\\u003e",' +
        '"maintainers":[{"name":"Ann","email":"ann@example.com"},{"name":"Bob"}],"apiVersion":"v2",' +
        '"appVersion":"1.16","annotations":{"category":"demo","org.opencontainers.image.title":"other","zeta":"last"},' +
        '"dependencies":[{"name":"dep","version":"1.x","repository":""}],"type":"application"}',
    );
  });

  it('keeps a version written like a number exactly as written, and reads deprecated as a boolean', () => {
    const metadata = parseChartYaml('name: a\nversion: 1.10\nappVersion: 010\ndeprecated: true\n', 'c.tgz');
    expect(metadata).toEqual({
      name: 'a',
      version: '1.10',
      apiVersion: 'v1',
      appVersion: '010',
      deprecated: true,
    });
  });

  it('refuses a field of the wrong type, as Helm cannot decode it', () => {
    expect(() => parseChartYaml('name: a\nversion: 1.0.0\nappVersion: [1]\n', 'c.tgz')).toThrow(UsageError);
    expect(() => parseChartYaml('name: a\n', 'c.tgz')).toThrow(/needs a name and a version/);
  });

  it('annotates the manifest as helm push does: chart fields, then chart annotations that keep title and version', () => {
    expect(helmAnnotations(parseChartYaml(chartYaml, 'c.tgz'))).toEqual({
      category: 'demo',
      'org.opencontainers.image.authors': 'Ann (ann@example.com), Bob',
      'org.opencontainers.image.description': 'A demo chart <b>',
      'org.opencontainers.image.source': 'https://github.com/x/y',
      'org.opencontainers.image.title': 'mychart',
      'org.opencontainers.image.url': 'https://example.com',
      'org.opencontainers.image.version': '0.3.1',
      zeta: 'last',
    });
    const keys = Object.keys(helmAnnotations(parseChartYaml(chartYaml, 'c.tgz')));
    expect(keys).toEqual([...keys].sort());
  });

  it('adds the created time only from SOURCE_DATE_EPOCH, in RFC 3339', () => {
    expect(sourceDateEpoch(undefined)).toBeUndefined();
    expect(sourceDateEpoch('1609459200')).toBe('2021-01-01T00:00:00Z');
    expect(() => sourceDateEpoch('yesterday')).toThrow(UsageError);
    const metadata = parseChartYaml('name: a\nversion: 1.0.0\n', 'c.tgz');
    expect(helmAnnotations(metadata, '2021-01-01T00:00:00Z')['org.opencontainers.image.created']).toBe(
      '2021-01-01T00:00:00Z',
    );
  });
});
