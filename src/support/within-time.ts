/**
 * `step`, or what `late()` gives once `ms` have passed, whichever comes first: the one way a wait
 * is bounded here (a local read, a request waiting for the model, INIT waiting for the load). The
 * timer never keeps the process alive and is cleared when the step settles first. The step itself
 * is not stopped; its later outcome stays observed, so it can never be an unhandled rejection.
 */
export function withinTime<T>(step: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (error) {
        reject(error);
      }
    }, ms);
    timer.unref?.();
  });
  step.catch(() => undefined);
  return Promise.race([step, timeout]).finally(() => clearTimeout(timer));
}
