import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error';
import { oauthErrorName, withParams } from '../../src/http/redirect';
import { encodeValues } from '../../src/http/url-values';

describe('redirect parameters as Go’s url.Values writes them', () => {
  it('sorts keys and escapes as url.QueryEscape (space as +, * escaped, ~ kept)', () => {
    expect(encodeValues({ z: '1', a: 'x y', m: 'a*b~c/d' })).toBe('a=x+y&m=a%2Ab~c%2Fd&z=1');
  });

  it('merges query parameters into the target’s own and re-sorts them all', () => {
    expect(withParams('https://app.example.com/cb?sb_flow=1&a=2', { query: { code: 'c0de' } })).toBe('https://app.example.com/cb?a=2&code=c0de&sb_flow=1');
  });

  it('replaces a parameter the target already has', () => {
    expect(withParams('https://app.example.com/cb?code=old', { query: { code: 'new' } })).toBe('https://app.example.com/cb?code=new');
  });

  it('replaces the fragment and leaves the query alone when only a fragment is given', () => {
    expect(withParams('https://app.example.com/cb?x=1#old', { fragment: { b: '2', a: '1', sb: '' } })).toBe('https://app.example.com/cb?x=1#a=1&b=2&sb=');
  });

  it('works for an app’s custom scheme', () => {
    expect(withParams('com.example.app://login-callback', { fragment: { access_token: 't', sb: '' } })).toBe('com.example.app://login-callback#access_token=t&sb=');
  });
});

describe('the OAuth error name of an error (GoTrue’s oauthErrorMap and refusals)', () => {
  it.each<[string, ApiError, string | undefined, string | undefined]>([
    ['a 400', new ApiError(400, 'validation_failed', 'x'), undefined, 'invalid_request'],
    ['a 403', new ApiError(403, 'otp_expired', 'x'), undefined, 'access_denied'],
    ['a refusal whatever its status', new ApiError(422, 'signup_disabled', 'x'), undefined, 'access_denied'],
    ['a provider that is down', new ApiError(502, 'provider_unavailable', 'x'), undefined, 'temporarily_unavailable'],
    ['an error of its own', new ApiError(400, 'bad_oauth_callback', 'x', { oauth: { error: 'invalid_grant' } }), undefined, 'invalid_grant'],
    ['an unmapped status on GET /verify', new ApiError(429, 'over_request_rate_limit', 'x'), undefined, undefined],
    ['an unmapped status on the OAuth callback', new ApiError(429, 'over_request_rate_limit', 'x'), 'server_error', 'server_error'],
  ])('%s', (_name, err, unmapped, expected) => {
    expect(oauthErrorName(err, unmapped)).toBe(expected);
  });
});
