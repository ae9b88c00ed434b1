/** The n largest entries by value (ties by key), without sorting everything. */
export function topN(entries: Iterable<readonly [string, number]>, n: number): Array<[string, number]> {
  const top: Array<[string, number]> = [];
  const before = (a: readonly [string, number], b: readonly [string, number]) => a[1] > b[1] || (a[1] === b[1] && a[0] < b[0]);
  for (const e of entries) {
    if (top.length === n && !before(e, top[n - 1]!)) continue;
    let i = Math.min(top.length, n - 1);
    if (top.length < n) top.push([e[0], e[1]]);
    else top[i] = [e[0], e[1]];
    while (i > 0 && before(top[i]!, top[i - 1]!)) {
      [top[i - 1], top[i]] = [top[i]!, top[i - 1]!];
      i--;
    }
  }
  return top;
}
