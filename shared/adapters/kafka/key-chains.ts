export interface KeyedRecord {
  key: Buffer | null;
  offset: string;
}

export interface KeyChainOptions<M extends KeyedRecord> {
  /** Chains (keys) handled at once. */
  concurrency: number;
  handle(record: M): Promise<void>;
  /** Called with the highest offset below which every record has been handled. */
  resolve(offset: string): void;
  /** False once the consumer stops or the partition was revoked: no record is started after that. */
  proceed(): boolean;
}

/**
 * Handles one partition's batch as one chain per key: a key's records strictly in offset order,
 * different keys at once (Kafka promises order per key, and per key is what consumers rely on).
 * Offsets are resolved only for a contiguous handled prefix. A throwing handler stops every chain
 * after its current record and the error is rethrown: the consumer seeks back to the first
 * unresolved record, and records of other keys handled after it are delivered again.
 */
export async function runKeyChains<M extends KeyedRecord>(records: readonly M[], options: KeyChainOptions<M>): Promise<void> {
  const chains = new Map<string, number[]>();
  records.forEach((record, index) => {
    const key = record.key === null ? '' : record.key.toString('latin1');
    const chain = chains.get(key);
    if (chain) chain.push(index);
    else chains.set(key, [index]);
  });
  const queue = [...chains.values()];
  const handled = new Array<boolean>(records.length).fill(false);
  let watermark = 0;
  let failure: { error: unknown } | null = null;

  const worker = async (): Promise<void> => {
    for (let chain = queue.shift(); chain; chain = queue.shift()) {
      for (const index of chain) {
        if (failure || !options.proceed()) return;
        try {
          await options.handle(records[index] as M);
        } catch (error) {
          failure ??= { error };
          return;
        }
        handled[index] = true;
        const before = watermark;
        while (watermark < records.length && handled[watermark]) watermark += 1;
        if (watermark > before) options.resolve((records[watermark - 1] as M).offset);
      }
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
}

export interface BatchRunOptions<M extends KeyedRecord> {
  maxRecords: number;
  /** Different keys in one batch at most: the keys a batch works on at once. */
  maxKeys: number;
  handle(records: M[]): Promise<void>;
  resolve(offset: string): void;
  proceed(): boolean;
}

/**
 * Hands a partition's fetch over in consecutive slices of at most `maxRecords` records and
 * `maxKeys` different keys, in offset order, resolving each slice's last offset once it is handled.
 * A throwing slice stops the rest and is rethrown: the consumer seeks back to its first record.
 */
export async function handleInBatches<M extends KeyedRecord>(records: readonly M[], options: BatchRunOptions<M>): Promise<void> {
  let start = 0;
  while (start < records.length) {
    if (!options.proceed()) return;
    const keys = new Set<string>();
    let end = start;
    for (; end < records.length && end - start < options.maxRecords; end += 1) {
      const key = (records[end] as M).key?.toString('latin1') ?? '';
      if (!keys.has(key) && keys.size >= options.maxKeys) break;
      keys.add(key);
    }
    const slice = records.slice(start, end);
    await options.handle(slice);
    options.resolve((slice.at(-1) as M).offset);
    start = end;
  }
}
