/**
 * vitest globalSetup: `npm run build` once before any test file runs, so each spawned `./gotrue` starts the compiled
 * build (about a third of the tsx loader's start-up) and runs exactly the source under test: the build is stamped
 * after the source's last edit, so ./gotrue's freshness rule picks it. Set GOTRUE_TEST_NO_BUILD=1 to spawn the
 * build step (./gotrue then runs dist/ only if it is still fresh, else the source through tsx).
 */
import { build } from '../../hack/build';

export default async function setup(): Promise<void> {
  if (process.env.GOTRUE_TEST_NO_BUILD) return;
  await build();
}
