/**
 * Runs one round of A and B, A first on even rounds and B first on odd ones, so that
 * neither side always runs on a cluster the other has just warmed (or loaded).
 */
export async function alternate<A, B>(
  round: number,
  a: () => Promise<A>,
  b: () => Promise<B>,
): Promise<[A, B]> {
  if (round % 2 === 0) {
    const first = await a();
    return [first, await b()];
  }
  const first = await b();
  return [await a(), first];
}
