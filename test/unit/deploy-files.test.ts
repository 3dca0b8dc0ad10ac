import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The deployment files keep their promises (no Docker engine here, so the text is checked): the image on an even
 * (LTS) Node major newer than the end-of-life Node 20, named once and read by CI; the HEALTHCHECK on the readiness
 * endpoint; compose with pinned images, one build, the mail catcher on localhost only, and no default JWT secret.
 */

const ROOT = resolve(__dirname, '../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const dockerfile = read('Dockerfile');
const compose = read('docker-compose.yml');

describe('Dockerfile', () => {
  it('builds on one Node LTS major, named once (ARG NODE_MAJOR, which .ci/run reads), newer than Node 20', () => {
    const major = Number(/^ARG NODE_MAJOR=(\d+)$/m.exec(dockerfile)?.[1]);
    expect(major).toBeGreaterThanOrEqual(22);
    expect(major % 2).toBe(0); // only even majors become LTS
    // Every image is that Node, directly or through an earlier stage (the build stage starts from deps).
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual(['node:${NODE_MAJOR}-trixie-slim', 'deps', 'node:${NODE_MAJOR}-trixie-slim']);
    expect(read('.ci/run')).toContain("sed -n 's/^ARG NODE_MAJOR=");
  });

  it('the runtime stage holds the compiled build and production dependencies, not the TypeScript source', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^COPY --from=deps \/app\/node_modules \.\/node_modules$/m);
    expect(runtime).not.toMatch(/^COPY (src|db|tsconfig)/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
  });

  it('HEALTHCHECK asks the readiness endpoint, not the static /health', () => {
    const check = dockerfile.slice(dockerfile.indexOf('HEALTHCHECK'));
    expect(check).toMatch(/\/health\/ready'/);
    expect(check).not.toMatch(/\/health'/);
  });
});

describe('docker-compose.yml', () => {
  it('pins every image to an exact version', () => {
    const images = [...compose.matchAll(/^\s+image: (\S+)$/gm)].map((m) => m[1]!);
    const pulled = images.filter((i) => i !== 'gotrue-ts:local');
    expect(pulled.length).toBeGreaterThanOrEqual(2);
    for (const image of pulled) expect(image).toMatch(/:v?\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$/);
  });

  it('builds the gotrue image once and reuses it', () => {
    expect(compose.match(/^\s+build:/gm)).toHaveLength(1);
    expect(compose.match(/^\s+image: gotrue-ts:local$/gm)).toHaveLength(2);
  });

  it('binds the mail catcher to 127.0.0.1 only', () => {
    const mail = compose.slice(compose.indexOf('\n  mail:'));
    const ports = [...mail.matchAll(/^\s+- "([^"]+)"$/gm)].map((m) => m[1]!);
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it('has no default JWT secret: compose refuses to start without GOTRUE_JWT_SECRET', () => {
    expect(compose).toMatch(/GOTRUE_JWT_SECRET: \$\{GOTRUE_JWT_SECRET:\?[^}$]+\}/);
    expect(compose).toMatch(/openssl rand -hex 32\)" > \.env/);
  });
});
