/**
 * A Map that holds at most `maxSize` entries, for caches whose keys come from callers: setting a
 * new key on a full map first drops the entry that was added earliest. Order is insertion order
 * only: reading an entry, or setting a key already there, leaves its place unchanged.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1)
      throw new RangeError(`BoundedMap: maxSize must be a positive integer, not ${maxSize}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): this {
    if (this.entries.size >= this.maxSize && !this.entries.has(key))
      this.entries.delete(this.entries.keys().next().value as K);
    this.entries.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** The entries, oldest first; deleting while iterating is safe, as with a Map. */
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries[Symbol.iterator]();
  }
}
