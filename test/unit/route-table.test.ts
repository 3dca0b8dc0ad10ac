import { Router } from 'express';
import { describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps';
import { endpoint, type Endpoint } from '../../src/http/endpoint';
import { routeTable, unlimited } from '../../src/http/route-table';

describe('the route table', () => {
  it('refuses at startup a line whose caller level is not the one the endpoint enforces', () => {
    const t = routeTable(Router(), {} as Deps);
    const userOnly = endpoint({ auth: 'user' }, () => ({}));
    expect(() => t.get('/user', unlimited, 'none', userOnly as unknown as Endpoint<'none'>)).toThrow(/GET \/user: the route table says none, the endpoint enforces user/);
    expect(() => t.get('/user', unlimited, 'user', userOnly)).not.toThrow();
  });
});
