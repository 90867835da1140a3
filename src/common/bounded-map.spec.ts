import { BoundedMap } from './bounded-map';

const keysOf = (map: BoundedMap<string, number>) => [...map].map(([key]) => key);

describe('BoundedMap', () => {
  it('keeps what it is given while there is room', () => {
    const map = new BoundedMap<string, number>(3);
    map.set('a', 1).set('b', 2);
    expect(map.size).toBe(2);
    expect(map.get('a')).toBe(1);
    expect(map.has('b')).toBe(true);
    expect(map.get('c')).toBeUndefined();
    expect(map.has('c')).toBe(false);
  });

  it('drops the entry added earliest when a new key comes to a full map', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('c', 3);
    expect(map.size).toBe(2);
    expect(map.has('a')).toBe(false);
    expect(keysOf(map)).toEqual(['b', 'c']);
  });

  it('does not move an entry that is read: the order is that of insertion', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);
    expect(keysOf(map)).toEqual(['b', 'c']);
  });

  it('replaces the value of a key it holds in place, dropping nothing', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 10);
    expect(map.size).toBe(2);
    expect(keysOf(map)).toEqual(['a', 'b']);
    expect(map.get('a')).toBe(10);
    map.set('c', 3);
    expect(keysOf(map)).toEqual(['b', 'c']);
  });

  it('deletes one entry or all, and takes new ones after', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    expect(map.delete('a')).toBe(true);
    expect(map.delete('a')).toBe(false);
    map.set('c', 3);
    expect(keysOf(map)).toEqual(['b', 'c']);
    map.clear();
    expect(map.size).toBe(0);
    map.set('d', 4);
    expect(keysOf(map)).toEqual(['d']);
  });

  it('lets entries be deleted while it is iterated', () => {
    const map = new BoundedMap<string, number>(4);
    map.set('a', 1).set('b', 2).set('c', 3);
    for (const [key, value] of map) if (value % 2 === 1) map.delete(key);
    expect(keysOf(map)).toEqual(['b']);
  });

  it('refuses a size that bounds nothing', () => {
    for (const size of [0, -1, 1.5, Number.NaN])
      expect(() => new BoundedMap<string, number>(size)).toThrow(RangeError);
  });
});
