// A binary min-heap of (key, a, b) triples in parallel arrays: the fleet
// planner's merge candidates and layer gains. No per-entry objects, so a
// few million entries stay cheap.
export class MinHeap {
  private keys: number[] = [];
  private as: number[] = [];
  private bs: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  peekKey(): number {
    return this.keys[0];
  }

  push(key: number, a: number, b: number): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.as.push(a);
    this.bs.push(b);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.keys[p] <= key) break;
      this.keys[i] = this.keys[p];
      this.as[i] = this.as[p];
      this.bs[i] = this.bs[p];
      i = p;
    }
    this.keys[i] = key;
    this.as[i] = a;
    this.bs[i] = b;
  }

  /** Removes the smallest entry into `out`. */
  pop(out: { key: number; a: number; b: number }): void {
    out.key = this.keys[0];
    out.a = this.as[0];
    out.b = this.bs[0];
    const key = this.keys.pop()!;
    const a = this.as.pop()!;
    const b = this.bs.pop()!;
    const n = this.keys.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.keys[c + 1] < this.keys[c]) c++;
      if (this.keys[c] >= key) break;
      this.keys[i] = this.keys[c];
      this.as[i] = this.as[c];
      this.bs[i] = this.bs[c];
      i = c;
    }
    this.keys[i] = key;
    this.as[i] = a;
    this.bs[i] = b;
  }
}
