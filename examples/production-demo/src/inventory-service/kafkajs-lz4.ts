// kafkajs is CommonJS whose named exports Node's ESM loader cannot all see: take them from the default export
import kafkajs from 'kafkajs';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';

/**
 * kafkajs ships only gzip; the typed Producer writes LZ4 batches. A kafkajs application plugs a
 * codec into kafkajs's table (what the kafkajs-lz4 package does); this one is the LZ4 frame
 * format Kafka uses, from lz4-napi (already a StreamHouse dependency).
 */
export function registerLz4Codec(): void {
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: { buffer: Buffer }) => compressFrameSync(encoder.buffer),
    decompress: async (buffer: Buffer) => decompressFrameSync(buffer),
  });
}
