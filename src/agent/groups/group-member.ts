import type { JoinGroupResult, SyncGroupResult } from './group-results.js';

export interface ProtocolMetadata {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface MemberInit {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly ProtocolMetadata[];
}

/**
 * One member of a classic group: what it sent in JoinGroup, its assignment, and the
 * JoinGroup/SyncGroup calls it has parked while the group rebalances.
 */
export class GroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly protocolType: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocols: readonly ProtocolMetadata[];
  assignment: Buffer = Buffer.alloc(0);
  /** Joined but no generation completed since: may still be expired while awaiting join. */
  isNew = false;
  private joinWaiter: ((result: JoinGroupResult) => void) | undefined;
  private syncWaiter: ((result: SyncGroupResult) => void) | undefined;

  constructor(init: MemberInit) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.protocols = init.protocols;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.joinWaiter !== undefined;
  }

  get isAwaitingSync(): boolean {
    return this.syncWaiter !== undefined;
  }

  /** Parks a JoinGroup; a call it replaces is told to rejoin rather than left hanging. */
  awaitJoin(waiter: (result: JoinGroupResult) => void, superseded: (previous: (result: JoinGroupResult) => void) => void): void {
    const previous = this.joinWaiter;
    this.joinWaiter = waiter;
    if (previous) superseded(previous);
  }

  awaitSync(waiter: (result: SyncGroupResult) => void, superseded: (previous: (result: SyncGroupResult) => void) => void): void {
    const previous = this.syncWaiter;
    this.syncWaiter = waiter;
    if (previous) superseded(previous);
  }

  /** Answers the parked JoinGroup, if any; true when there was one. */
  completeJoin(result: JoinGroupResult): boolean {
    const waiter = this.joinWaiter;
    if (!waiter) return false;
    this.joinWaiter = undefined;
    waiter(result);
    return true;
  }

  completeSync(result: SyncGroupResult): boolean {
    const waiter = this.syncWaiter;
    if (!waiter) return false;
    this.syncWaiter = undefined;
    waiter(result);
    return true;
  }

  /** The metadata this member sent for one protocol (empty if it does not support it). */
  metadataFor(protocol: string): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? Buffer.alloc(0);
  }

  /** Same protocols, in the same order, with the same metadata bytes. */
  matches(protocols: readonly ProtocolMetadata[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata));
  }

  /** Kafka's vote: the member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.protocols.find((p) => candidates.has(p.name));
    if (!choice) throw new Error(`member ${this.memberId} supports none of ${[...candidates].join(', ')}`);
    return choice.name;
  }
}
