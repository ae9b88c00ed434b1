import { MetadataStoreError, type ChunkReplacement } from './metadata-store.js';

/** Shape checks every backend applies before touching the index. */
export function validateChunkReplacement(r: ChunkReplacement): void {
  const first = r.replaced[0];
  const last = r.replaced[r.replaced.length - 1];
  if (!first || !last || r.chunk.baseOffset !== first.baseOffset || r.chunk.lastOffset !== last.lastOffset) {
    throw new MetadataStoreError('INVALID_ARGUMENT', 'A replacement chunk must cover exactly the chunks it replaces');
  }
  for (let i = 1; i < r.replaced.length; i++) {
    if (r.replaced[i]!.baseOffset !== r.replaced[i - 1]!.lastOffset + 1n) throw new MetadataStoreError('INVALID_ARGUMENT', 'Replaced chunks must be consecutive');
  }
  if (r.chunk.byteOffset < 0 || r.chunk.byteLength <= 0 || r.chunk.byteOffset + r.chunk.byteLength > r.objectSize) {
    throw new MetadataStoreError('INVALID_ARGUMENT', 'Chunk lies outside its object');
  }
}
