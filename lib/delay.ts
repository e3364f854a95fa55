/** A value after `ms`, unless cancelled first: every bounded wait races one of these. */
export const delay = <A>(ms: number, value: A): { readonly promise: Promise<A>; readonly cancel: () => void } => {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<A>((resolve) => {
    timer = setTimeout(() => resolve(value), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
};
