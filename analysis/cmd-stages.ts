// Placeholder: this subcommand is being built.
import { CliError } from '../core/errors.ts';

export async function run(_argv: string[]): Promise<number> {
  throw new CliError('this command is not available yet');
}
