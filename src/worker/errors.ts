// Errors across the worker boundary. comlink re-throws a worker's Error on the
// caller's side with only message, name and stack; strata's errors also carry
// a code, a pipeline location (`pipeline[1][2]`) and a store path, which the
// web page and callers use, so the worker adds them to the serialized error.
import { transferHandlers } from "comlink";

/** A worker died (crash, out of memory, terminated) while a call was pending. */
export class WorkerCrashedError extends Error {
  override readonly name = "WorkerCrashedError";
  constructor(
    message: string,
    /** What the worker reported, when it reported anything. */
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** The fields of a StrataError that survive the trip from a worker. */
export interface RemoteErrorFields {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly location?: string;
  readonly path?: string;
}

let installed = false;

/** Worker side: keep code/location/path on thrown errors (comlink copies every field back). */
export function keepErrorFields(): void {
  if (installed) return;
  installed = true;
  const base = transferHandlers.get("throw");
  if (base === undefined) return;
  transferHandlers.set("throw", {
    canHandle: (v: unknown): v is unknown => base.canHandle(v),
    serialize(v: unknown) {
      const [wire, transferables] = base.serialize(v);
      const thrown = (v as { value?: unknown }).value;
      const value = (wire as { isError?: boolean; value?: Record<string, unknown> }).value;
      if (thrown instanceof Error && value !== undefined && typeof value === "object") {
        for (const key of ["code", "location", "path"] as const) {
          const field = (thrown as unknown as Record<string, unknown>)[key];
          if (typeof field === "string") value[key] = field;
        }
      }
      return [wire, transferables];
    },
    deserialize: (wire: unknown) => base.deserialize(wire),
  });
}
