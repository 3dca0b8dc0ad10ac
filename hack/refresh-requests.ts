import type autocannon from 'autocannon';

/**
 * The refresh scenario of hack/bench.ts and hack/profile.ts: each request takes a refresh token from `queue` and its
 * reply puts the rotated one back (autocannon resets per-connection context every pass, so the queue holds them).
 */
export function rotatingRefresh(queue: string[], refused?: (status: number, body: string) => void): autocannon.Request[] {
  return [
    {
      method: 'POST',
      path: '/token?grant_type=refresh_token',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ refresh_token: queue.shift() ?? 'queue-ran-dry' }) }),
      onResponse: (status, body) => {
        if (status === 200) queue.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
        else refused?.(status, body);
      },
    },
  ];
}
