import { spawn } from 'node:child_process';

export interface BinaryResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Like runCommand, but keeps stdout as bytes (kcat prints raw keys and values). */
export function runBinary(cmd: string, args: string[], opts: { input?: Buffer; timeoutMs?: number } = {}): Promise<BinaryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${opts.timeoutMs ?? 30000} ms\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}
