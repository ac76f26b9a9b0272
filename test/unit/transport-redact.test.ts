import { describe, expect, it } from 'vitest';
import { redactHeaders, redactText, redactUrl } from '../../src/transport/redact.js';

describe('redactHeaders', () => {
  it('hides credentials and keeps the names, lower-cased', () => {
    expect(
      redactHeaders({
        Authorization: 'Bearer abc',
        'Proxy-Authorization': 'Basic eA==',
        Cookie: 'c=1',
        'Set-Cookie': ['a=1', 'b=2'],
        'X-Registry-Auth': 'e30=',
        'X-Auth-Token': 't',
        'X-Client-Secret': 's',
        Accept: 'application/json',
      }),
    ).toEqual({
      authorization: '***',
      'proxy-authorization': '***',
      cookie: '***',
      'set-cookie': '***',
      'x-registry-auth': '***',
      'x-auth-token': '***',
      'x-client-secret': '***',
      accept: 'application/json',
    });
  });

  it('hides the signature inside a Location or Link URL', () => {
    const out = redactHeaders({
      location: 'https://s3.example.com/b?X-Amz-Signature=SIG&part=1',
      link: '</v2/_catalog?last=b&n=2>; rel="next"',
    });
    expect(out.location).toBe('https://s3.example.com/b?X-Amz-Signature=***&part=1');
    expect(out.link).toBe('</v2/_catalog?last=b&n=2>; rel="next"');
  });

  it('hides credential query values in a relative Location', () => {
    expect(redactHeaders({ location: '/upload/1?token=SECRET&n=1' }).location).toBe(
      '/upload/1?token=***&n=1',
    );
  });
});

describe('redactUrl', () => {
  it('hides userinfo', () => {
    const out = redactUrl('https://user:hunter2@registry.example.com/v2/');
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('user');
    expect(out).toContain('registry.example.com/v2/');
  });

  it('hides S3, GCS and Azure presigned parameters and keeps the rest', () => {
    const out = redactUrl(
      'https://s3.example.com/b?X-Amz-Signature=S1&X-Amz-Credential=C1&X-Amz-Security-Token=T1&X-Goog-Signature=G1&sig=A1&se=2030&sp=r&Expires=1&access_token=AT&code=CD&partNumber=3',
    );
    for (const secret of ['S1', 'C1', 'T1', 'G1', 'A1', '2030', 'AT', 'CD'])
      expect(out).not.toContain(`=${secret}`);
    expect(out).toContain('partNumber=3');
  });

  it('leaves an ordinary registry URL alone', () => {
    const url = 'https://registry.example.com/v2/library/alpine/tags/list?n=100&last=3.19';
    expect(redactUrl(url)).toBe(url);
  });
});

describe('redactText', () => {
  it('hides token, access_token, refresh_token and password values in JSON', () => {
    const out = redactText(
      '{"token":"T1","access_token": "T2","expires_in":300,"refresh_token":"T3","password":"P\\"W","user":"me"}',
    );
    expect(out).not.toMatch(/T1|T2|T3|P\\"W|"W"/);
    expect(out).toContain('"expires_in":300');
    expect(out).toContain('"user":"me"');
    expect(JSON.parse(out)).toMatchObject({ token: '***', password: '***' });
  });

  it('hides secrets in a form-encoded OAuth2 body', () => {
    const out = redactText('grant_type=password&username=me&password=hunter2&service=registry');
    expect(out).toBe('grant_type=password&username=me&password=***&service=registry');
  });
});
