import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'dotenv';

/**
 * The one place that reads process.env: the process environment over an optional .env file
 * (the environment wins, as GoTrue's godotenv does).
 */
export function readEnvironment(envFile = '.env'): Record<string, string | undefined> {
  const fromFile = existsSync(envFile) ? parse(readFileSync(envFile)) : {};
  return { ...fromFile, ...process.env };
}
