// Tar headers and the Python semantics behind them, checked against the real
// things: CPython's tarfile (the module stream_layered_image.py uses) writes
// the expected header bytes for the same entries, GNU tar the expected
// customisation-layer bytes; json/repr/datetime against CPython too.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIRTYPE, REGTYPE, SYMTYPE, tarEnd, tarHeader, pyEncode, type TarEntry } from "../src/image/tar.js";
import { comparePyNames, layerTarChunks } from "../src/image/layer-tar.js";
import { directoryTarChunks } from "../src/image/gnu-tar.js";
import { isoFormat, parseIsoDateTime, pyReprList, pyTimestamp } from "../src/image/python.js";
import { parsePyJson, pyJsonDumps } from "../src/format/python-json.js";

/** Runs a Python 3 program with a JSON document on stdin; its stdout parsed as JSON. Fails when python3 is missing. */
function python(program: string, input: unknown): unknown {
  const r = spawnSync("python3", ["-c", program], { input: JSON.stringify(input), encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.error !== undefined) throw new Error(`python3 could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const TARFILE_ORACLE = `
import json, sys, tarfile
out = []
for e in json.load(sys.stdin):
    ti = tarfile.TarInfo(bytes.fromhex(e["name"]).decode("utf-8", "surrogateescape"))
    ti.type = {"0": tarfile.REGTYPE, "2": tarfile.SYMTYPE, "5": tarfile.DIRTYPE}[e["type"]]
    ti.mode = e["mode"]; ti.uid = e["uid"]; ti.gid = e["gid"]; ti.size = e["size"]; ti.mtime = e["mtime"]
    ti.uname = bytes.fromhex(e["uname"]).decode("utf-8", "surrogateescape")
    ti.gname = bytes.fromhex(e["gname"]).decode("utf-8", "surrogateescape")
    ti.linkname = bytes.fromhex(e["linkname"]).decode("utf-8", "surrogateescape")
    out.append(ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape").hex())
print(json.dumps(out))
`;

interface Spec {
  name: Uint8Array;
  type: "0" | "2" | "5";
  mode: number;
  uid: number;
  gid: number;
  uname: Uint8Array;
  gname: Uint8Array;
  size: number;
  mtime: number;
  linkname: Uint8Array;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (s: string) => pyEncode(s);

function ours(s: Spec): string {
  const e: TarEntry = { ...s, type: s.type === "0" ? REGTYPE : s.type === "2" ? SYMTYPE : DIRTYPE, linkname: s.linkname };
  return hex(tarHeader(e));
}

function oracle(specs: Spec[]): string[] {
  return python(
    TARFILE_ORACLE,
    specs.map((s) => ({ ...s, name: hex(s.name), uname: hex(s.uname), gname: hex(s.gname), linkname: hex(s.linkname) })),
  ) as string[];
}

const base: Spec = {
  name: bytes("/nix/store/x"),
  type: "0",
  mode: 0o444,
  uid: 0,
  gid: 0,
  uname: bytes("root"),
  gname: bytes("root"),
  size: 0,
  mtime: 1,
  linkname: new Uint8Array(0),
};

describe("tar headers = CPython tarfile's PAX headers", () => {
  const edge: [string, Partial<Spec>][] = [
    ["plain file", {}],
    ["name of exactly 100 characters", { name: bytes("/" + "a".repeat(99)) }],
    ["name of 101 characters", { name: bytes("/" + "a".repeat(100)) }],
    ["directory of 99 characters (100 with its slash)", { type: "5", name: bytes("/" + "d".repeat(98)) }],
    ["directory of 100 characters (101 with its slash)", { type: "5", name: bytes("/" + "d".repeat(99)) }],
    ["a 300-byte name", { name: bytes("/nix/store/" + "x/".repeat(145)) }],
    ["non-ASCII UTF-8 name (NFC é)", { name: bytes("/nix/store/café") }],
    ["CJK and a 4-byte emoji", { name: bytes("/nix/store/日本語-😀") }],
    ["not UTF-8: raw 0xe9", { name: Uint8Array.from([...bytes("/nix/store/caf"), 0xe9]) }],
    ["not UTF-8: 0xff 0xfe", { name: Uint8Array.from([...bytes("/s/"), 0xff, 0xfe]) }],
    ["truncated UTF-8 sequence", { name: Uint8Array.from([...bytes("/s/x"), 0xf0, 0x9f, 0x98]) }],
    ["encoded surrogate (invalid UTF-8)", { name: Uint8Array.from([...bytes("/s/"), 0xed, 0xa0, 0x80]) }],
    ["symlink with a long target", { type: "2", linkname: bytes("../" + "t".repeat(120)) }],
    ["symlink with a non-ASCII target", { type: "2", linkname: bytes("link-to-日本語") }],
    ["symlink with a non-UTF-8 target", { type: "2", linkname: Uint8Array.from([0x63, 0x61, 0x66, 0xe9]) }],
    ["uname of 32 characters", { uname: bytes("u".repeat(32)) }],
    ["uname of 33 characters", { uname: bytes("u".repeat(33)) }],
    ["non-ASCII gname", { gname: bytes("grüppe") }],
    ["uid 2^21 - 1", { uid: 2 ** 21 - 1 }],
    ["uid 2^21 overflows", { uid: 2 ** 21 }],
    ["gid 4343 and uid 4242", { uid: 4242, gid: 4343 }],
    ["negative mtime", { mtime: -1 }],
    ["mtime 8^11 overflows (year 2242)", { mtime: 8 ** 11 }],
    ["size 8 GiB overflows", { size: 8 ** 11 }],
    ["size just below 8 GiB", { size: 8 ** 11 - 1 }],
    ["mode with setuid and type bits", { mode: 0o104755 }],
    [
      "everything at once",
      {
        name: Uint8Array.from([...bytes("/" + "é".repeat(60)), 0xff]),
        uid: 2 ** 22,
        gid: 2 ** 23,
        size: 8 ** 12,
        mtime: -5,
        uname: bytes("ü".repeat(40)),
        gname: bytes("g"),
      },
    ],
  ];
  it.each(edge.map(([n, s], i) => [n, i, s] as const))("%s", (_n, i) => {
    const specs = edge.map(([, s]) => ({ ...base, ...s }));
    const expected = oracleOnce(specs);
    expect(ours(specs[i])).toBe(expected[i]);
  });

  let cached: string[] | undefined;
  function oracleOnce(specs: Spec[]): string[] {
    return (cached ??= oracle(specs));
  }

  it("random names, owners and numbers (fast-check, fixed seed)", () => {
    const byte = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.integer({ min: 0x80, max: 0xff }),
      fc.constantFrom(0xc3, 0xa9, 0xe6, 0x97, 0xa5, 0xf0, 0x9f, 0x98, 0x80),
    );
    const name = fc.array(byte, { minLength: 1, maxLength: 140 }).map((a) => Uint8Array.from([0x2f, ...a]));
    const str = fc.array(byte, { maxLength: 40 }).map((a) => Uint8Array.from(a));
    const spec = fc.record({
      name,
      type: fc.constantFrom("0" as const, "2" as const, "5" as const),
      mode: fc.integer({ min: 0, max: 0o177777 }),
      uid: fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.integer({ min: 2 ** 21 - 2, max: 2 ** 21 + 2 })),
      gid: fc.integer({ min: 0, max: 2 ** 22 }),
      uname: str,
      gname: str,
      size: fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.constant(8 ** 11)),
      mtime: fc.oneof(fc.integer({ min: -100, max: 2 ** 31 }), fc.constant(8 ** 11 + 3)),
      linkname: str,
    });
    const samples = fc.sample(spec, { numRuns: 400, seed: 14 });
    const expected = oracle(samples);
    const mismatches = samples.map((s, i) => (ours(s) === expected[i] ? -1 : i)).filter((i) => i >= 0);
    expect(mismatches).toEqual([]);
  });

  it("the end of an archive pads to 10240 bytes; an empty layer is exactly 10240", () => {
    expect(tarEnd(0).length).toBe(10240);
    expect(tarEnd(512).length).toBe(10240 - 512);
    expect(tarEnd(10240 - 1024).length).toBe(1024);
    expect(tarEnd(10240 - 512).length).toBe(1024 + 10240 - 512);
  });
});

describe("Python's PurePath order over surrogate-escaped names", () => {
  it("sorts as CPython's sorted() over os.fsdecode'd names", () => {
    const names = ["a", "a-b", "a.b", "a0", "B", "Dir", "_dir", "~dir", "é", "x\udcf0", "x\ue000", "😀", "\uffff", "ab", "a b", "-x", "\udcff"];
    const raw = names.map((n) => pyEncode(n));
    const expected = python(
      "import json,sys,os; print(json.dumps(sorted(range(len(n:=[bytes.fromhex(h) for h in json.load(sys.stdin)])), key=lambda i: os.fsdecode(n[i]))))",
      raw.map(hex),
    ) as number[];
    const got = raw.map((_, i) => i).sort((i, j) => comparePyNames(raw[i], raw[j]));
    expect(got).toEqual(expected);
  });
});

describe("a layer tar of a store mounted elsewhere (--store-root)", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "strata-tar-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("equals CPython tarfile archiving the same tree with the script's rules (hard links as files, sorted as PurePath)", async () => {
    const store = join(root, "store");
    const p = join(store, "0000000000000000000000000000000a-pkg");
    mkdirSync(join(p, "sub", "deeper"), { recursive: true });
    mkdirSync(join(p, "empty"));
    writeFileSync(join(p, "sub", "deeper", "f513"), Buffer.alloc(513, 7));
    writeFileSync(join(p, "f0"), "");
    writeFileSync(join(p, ".dot"), "hidden");
    writeFileSync(join(p, "n" + "x".repeat(120)), "long");
    writeFileSync(Buffer.from(join(p, "caf") + "\xe9", "latin1"), "raw");
    linkSync(join(p, "f0"), join(p, "f0-hardlink"));
    symlinkSync("sub/deeper/f513", join(p, "link"));
    symlinkSync("/nowhere/dangling", join(p, "dangling"));
    chmodSync(join(p, "sub"), 0o700);
    const q = join(store, "0000000000000000000000000000000b-file");
    writeFileSync(q, "one file\n");
    const settings = { mtime: 1700000000, uid: 1000, gid: 100, uname: "user", gname: "users" };
    const paths = [
      "/nix/store/0000000000000000000000000000000a-pkg",
      "/nix/store/0000000000000000000000000000000b-file",
      "/nix/store/0000000000000000000000000000000a-pkg",
    ];
    const chunks: Uint8Array[] = [];
    for await (const c of layerTarChunks(paths, settings, { storeDir: "/nix/store", storeRoot: store })) chunks.push(c);
    const mine = Buffer.concat(chunks);
    // The oracle: tarfile over the on-disk tree, with names rewritten to /nix/store/... (our own short Python).
    const expected = python(
      `
import io, json, os, sys, tarfile, pathlib
a = json.load(sys.stdin)
buf = io.BytesIO()
def fix(ti):
    ti.mtime = a["mtime"]; ti.uid = a["uid"]; ti.gid = a["gid"]; ti.uname = a["uname"]; ti.gname = a["gname"]; return ti
with tarfile.open(fileobj=buf, mode="w|") as t:
    for d in ["/nix", "/nix/store"]:
        ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(fix(ti))
    for logical in a["paths"]:
        disk = pathlib.Path(a["root"] + logical[len("/nix/store"):])
        files = [disk] if disk.is_symlink() else [disk, *disk.rglob("*")]
        for f in sorted(files):
            ti = t.gettarinfo(f, arcname="/nix/store" + str(f)[len(a["root"]):])
            ti.name = "/" + ti.name.lstrip("/")
            if ti.islnk():
                ti.type = tarfile.REGTYPE; ti.linkname = ""; ti.size = f.stat().st_size
            fix(ti)
            if ti.isfile():
                with open(f, "rb") as h: t.addfile(ti, h)
            else:
                t.addfile(ti)
print(json.dumps({"size": len(buf.getvalue()), "sha256": __import__("hashlib").sha256(buf.getvalue()).hexdigest()}))
`,
      { ...settings, paths, root: store },
    ) as { size: number; sha256: string };
    expect({ size: mine.length, sha256: createHash("sha256").update(mine).digest("hex") }).toEqual(expected);
    expect(mine.length % 10240).toBe(0);
  });

  it("an empty layer holds only /nix/ and /nix/store/ in 10240 bytes", async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of layerTarChunks([], { mtime: 1, uid: 0, gid: 0, uname: "root", gname: "root" }, { storeDir: "/nix/store" })) chunks.push(c);
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(10240);
    expect(all.subarray(0, 5).toString()).toBe("/nix/");
    expect(all.subarray(512, 523).toString()).toBe("/nix/store/");
  });

  it("a large file streams in chunks (no chunk above ~1 MiB)", async () => {
    const store = join(root, "big");
    mkdirSync(join(store, "0000000000000000000000000000000c-big"), { recursive: true });
    writeFileSync(join(store, "0000000000000000000000000000000c-big", "blob"), Buffer.alloc(5 * 1024 * 1024 + 3, 1));
    let max = 0;
    let total = 0;
    for await (const c of layerTarChunks(
      ["/nix/store/0000000000000000000000000000000c-big"],
      { mtime: 1, uid: 0, gid: 0, uname: "root", gname: "root" },
      { storeDir: "/nix/store", storeRoot: store },
    )) {
      max = Math.max(max, c.length);
      total += c.length;
    }
    expect(total).toBeGreaterThan(5 * 1024 * 1024);
    expect(max).toBeLessThanOrEqual(1 << 21);
  });
});

describe("customisation layer from a directory = GNU tar as nixpkgs runs it", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "strata-gnutar-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("byte-identical to tar --sort=name --format=gnu --numeric-owner --owner=0 --group=0 --mtime=@315532800 --hard-dereference", async () => {
    const d = join(root, "contents");
    mkdirSync(join(d, "bin"), { recursive: true });
    mkdirSync(join(d, "etc", "x".repeat(60), "y".repeat(60)), { recursive: true });
    symlinkSync("/nix/store/0000000000000000000000000000000a-app/bin/app", join(d, "bin", "app"));
    symlinkSync("/nix/store/" + "t".repeat(150), join(d, "bin", "long-target"));
    writeFileSync(join(d, "etc", "motd"), "hello\n");
    writeFileSync(join(d, "etc", "x".repeat(60), "y".repeat(60), "z".repeat(30)), Buffer.alloc(1000, 3));
    linkSync(join(d, "etc", "motd"), join(d, "etc", "motd-link"));
    writeFileSync(join(d, "B"), "");
    writeFileSync(join(d, "a"), "");
    writeFileSync(Buffer.from(join(d, "caf") + "\xe9", "latin1"), "");
    chmodSync(join(d, "etc", "motd"), 0o640);
    const tarFile = join(root, "gnu.tar");
    const r = spawnSync(
      "tar",
      ["--sort=name", "--format=gnu", "--numeric-owner", "--owner=0", "--group=0", "--mtime=@315532800", "--hard-dereference", "-C", d, "-cf", tarFile, "."],
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    const chunks: Uint8Array[] = [];
    for await (const c of directoryTarChunks(d)) chunks.push(c);
    const mine = Buffer.concat(chunks);
    const theirs = readFileSync(tarFile);
    expect(mine.length).toBe(theirs.length);
    expect(mine.equals(theirs)).toBe(true);
  });

  it("an empty directory gives what nixpkgs makes for contents = [] (the compat store's custom-empty layer is the same kind)", async () => {
    const d = join(root, "empty");
    mkdirSync(d);
    chmodSync(d, 0o755);
    const tarFile = join(root, "empty.tar");
    expect(
      spawnSync("tar", [
        "--sort=name",
        "--format=gnu",
        "--numeric-owner",
        "--owner=0",
        "--group=0",
        "--mtime=@315532800",
        "--hard-dereference",
        "-C",
        d,
        "-cf",
        tarFile,
        ".",
      ]).status,
    ).toBe(0);
    const chunks: Uint8Array[] = [];
    for await (const c of directoryTarChunks(d)) chunks.push(c);
    expect(Buffer.concat(chunks).equals(readFileSync(tarFile))).toBe(true);
  });
});

describe("Python semantics of the config (CPython as the oracle)", () => {
  it("repr of path lists (history comments)", () => {
    const lists = [
      ["/nix/store/a", "/nix/store/b"],
      ["it's"],
      ['say "hi"'],
      ["both ' and \""],
      ["tab\there", "new\nline", "back\\slash"],
      ["é", "日本語", "😀", "\u0085", "\u00a0", "\u200b", "\udcff", "\x7f", "\x00"],
      [],
    ];
    const expected = python("import json,sys; print(json.dumps([repr(l) for l in json.load(sys.stdin)]))", lists) as string[];
    expect(lists.map(pyReprList)).toEqual(expected);
  });

  it("json.dumps(indent=4) of parsed JSON keeps order, integers and Python floats", () => {
    const texts = [
      '{"b": 1, "a": [1.0, 1e16, 1.5e-7, 0.0001, 123456789012345678901234567890, -0, 2.5, 1E400, -1e-400], "1": {}, "b": 2}',
      '{"Labels": {"z": "é", "a": "\\ud83d\\ude00"}, "Env": [], "x": null, "t": true}',
      '[{"x": 0.1}, 3.0e2, 100000000000000000000.0]',
    ];
    const expected = python("import json,sys; print(json.dumps([json.dumps(json.loads(t), indent=4) for t in json.load(sys.stdin)]))", texts) as string[];
    expect(texts.map((t) => pyJsonDumps(parsePyJson(t), 4))).toEqual(expected);
  });

  it("datetime.fromisoformat, isoformat and int(timestamp())", () => {
    const times = [
      "1970-01-01T00:00:01+00:00",
      "2025-02-03T04:05:06Z",
      "2024-02-29T23:59:59.123456+01:00",
      "2000-01-01T00:00:00+05:30",
      "2024-06-01 12:00:00",
      "2024-06-01",
      "20240601T120000",
      "2024-06-01T12:00:00.5-03:30",
      "1969-12-31T23:59:59.5+00:00",
      "2024-06-01T12:00+02",
      "2024-06-01T12:00:00+0130",
    ];
    const expected = python(
      "import json,sys,datetime; print(json.dumps([[datetime.datetime.fromisoformat(t).isoformat(), int(datetime.datetime.fromisoformat(t).timestamp())] for t in json.load(sys.stdin)]))",
      times,
    ) as [string, number][];
    const ours = times.map((t) => {
      const dt = parseIsoDateTime(t)!;
      return [isoFormat(dt), pyTimestamp(dt)];
    });
    expect(ours).toEqual(expected);
  });
});
