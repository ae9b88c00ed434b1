import { AdminClient } from '../../grpc/client/admin-client.js';
import type { CliContext } from './context.js';

/** Runs `work` with an AdminClient for the context's address, closing it afterwards. */
export async function withAdmin<T>(ctx: CliContext, work: (admin: AdminClient) => Promise<T>): Promise<T> {
  const admin = new AdminClient({ address: ctx.address, timeoutMs: ctx.timeoutMs });
  try {
    return await work(admin);
  } finally {
    admin.close();
  }
}
