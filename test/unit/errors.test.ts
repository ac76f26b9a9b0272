import { describe, expect, it } from 'vitest';
import { AuthError, ExitCode, InvalidReferenceError, NotFoundError, TugError } from '../../src/errors.js';

describe('typed errors', () => {
  it('carry the exit code of their kind', () => {
    expect(new TugError('x').exitCode).toBe(ExitCode.failure);
    expect(new InvalidReferenceError('a b', 'spaces are not allowed').exitCode).toBe(ExitCode.usage);
    expect(new AuthError('denied').exitCode).toBe(ExitCode.auth);
    expect(new NotFoundError('gone').exitCode).toBe(ExitCode.notFound);
  });

  it('name the input and the reason of an invalid reference', () => {
    const error = new InvalidReferenceError('Foo', 'repository must be lowercase');
    expect(error.message).toBe('invalid reference "Foo": repository must be lowercase');
    expect(error.name).toBe('InvalidReferenceError');
  });
});
