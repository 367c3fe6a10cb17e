/**
 * Sorts a short array of numbers ascending, in place. For the handful of values a quorum or a
 * clock median is taken over on every message: `Array.prototype.sort` allocates a work copy and a
 * sort state on each call, which was the largest single source of garbage on a leader's hot path.
 */
export function sortNumbersInPlace(values: number[]): number[] {
  for (let i = 1; i < values.length; i++) {
    const value = values[i]!;
    let j = i - 1;
    while (j >= 0 && values[j]! > value) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = value;
  }
  return values;
}
