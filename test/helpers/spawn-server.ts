// Starts a server command as a child process and waits for its `listening on URL` line
// (the simulated server's contract); kill() stops it by its own pid.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Spawned {
  url: string;
  child: ChildProcess;
  kill(): Promise<void>;
}

export function spawnListening(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<Spawned> {
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: no 'listening on' line within ${opts.timeoutMs ?? 30_000} ms; stderr: ${err.slice(-500)}`));
    }, opts.timeoutMs ?? 30_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          child,
          kill: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code} before listening; stderr: ${err.slice(-500)}`));
    });
  });
}
