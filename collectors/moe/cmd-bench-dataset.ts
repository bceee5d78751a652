// `servelab moe bench`: one dataset against a server into a run (being built).
import { CliError } from '../../core/errors.ts';

export async function run(_argv: string[]): Promise<number> {
  throw new CliError('moe bench: not available yet');
}
