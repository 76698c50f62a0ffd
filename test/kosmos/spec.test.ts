import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDeploymentText, buildDeployment, placeholderSealer, sealerFor } from "../../src/kosmos/spec/index.js";
import { GiB, ValidationError, generateKeyPair, generateSealKeyPair, unseal, verifyObject, signDeployment, isSealed, type WorkloadOf } from "../../src/core/index.js";

const GOOD = `name: hello
zdbs:
  - name: db
    size: 10GiB
    mode: user
    password: s3cret
    public: false
volumes:
  - name: data
    size: 512MiB
`;

test("a good file parses with sizes in bytes and defaults filled", () => {
  const s = parseDeploymentText(GOOD);
  assert.equal(s.name, "hello");
  assert.equal(s.zdbs[0].size, 10 * GiB);
  assert.equal(s.zdbs[0].password, "s3cret");
  assert.equal(s.volumes[0].size, 512 * 1024 * 1024);
});

function rejects(text: string, re: RegExp, env: NodeJS.ProcessEnv = {}) {
  assert.throws(() => parseDeploymentText(text, { file: "f.yaml", env }), (e) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

test("errors point at the field, with its line", () => {
  rejects(GOOD.replace("10GiB", "ten gigs"), /f\.yaml:4:11: zdbs\[0\]\.size: "ten gigs" is not a size/);
  rejects(GOOD.replace("mode: user", "mode: fast"), /f\.yaml:5:\d+: zdbs\[0\]\.mode/);
  rejects(GOOD.replace("name: data", "name: db"), /volumes\[0\]\.name: "db" is already the name of zdbs\[0\]/);
  rejects(GOOD.replace("name: hello", "name: hello world"), /f\.yaml:1:\d+: name:/);
  rejects(GOOD + "colour: blue\n", /colour|Unrecognized/i);
  rejects("name: x\n", /no workloads/);
  rejects("name: [\n", /not valid YAML/);
  rejects("- a\n- b\n", /YAML mapping/);
  rejects(GOOD.replace("size: 512MiB", "size: 0"), /volumes\[0\]\.size: size must be more than 0/);
});

test("passwords may come from the environment, and a missing variable is named", () => {
  const text = GOOD.replace("password: s3cret", "password: {env: HELLO_PW}");
  assert.equal(parseDeploymentText(text, { env: { HELLO_PW: "from-env" } }).zdbs[0].password, "from-env");
  rejects(text, /zdbs\[0\]\.password: environment variable HELLO_PW is not set/);
});

test("signers are checked: weights must be reachable", () => {
  rejects(GOOD + "signers:\n  requests: [{twinId: 3, weight: 1}]\n  weightRequired: 2\n", /signers\.weightRequired: weightRequired 2 exceeds/);
});

test("the built deployment seals every secret to the node and is signable", () => {
  const user = generateKeyPair();
  const node = generateSealKeyPair();
  const spec = parseDeploymentText(GOOD);
  const { deployment, changed } = buildDeployment({ spec, twinId: 5, nodeId: 2, privateKey: user.privateKey, sealSecret: sealerFor(node.publicKey) });
  assert.equal(changed, true);
  assert.equal(deployment.version, 0);
  assert.deepEqual(JSON.parse(deployment.metadata).name, "hello");
  assert.ok(!JSON.stringify(deployment).includes("s3cret"), "clear-text password in the deployment");
  const zdb = deployment.workloads.find((w) => w.type === "zdb") as WorkloadOf<"zdb">;
  assert.ok(isSealed(zdb.data.password));
  assert.equal(unseal(zdb.data.password, node), "s3cret");
  assert.deepEqual(deployment.signatureRequirement, { requests: [{ twinId: 5, weight: 1, required: false }], weightRequired: 1 });
  assert.ok(verifyObject(deployment, user.publicKey, signDeployment(deployment, user.privateKey)));
});

test("a re-deploy keeps unchanged workloads as they were and bumps only what changed", () => {
  const user = generateKeyPair();
  const node = generateSealKeyPair();
  const first = buildDeployment({ spec: parseDeploymentText(GOOD), twinId: 5, nodeId: 2, privateKey: user.privateKey, sealSecret: sealerFor(node.publicKey) }).deployment;
  const same = buildDeployment({ spec: parseDeploymentText(GOOD), twinId: 5, nodeId: 2, privateKey: user.privateKey, sealSecret: sealerFor(node.publicKey), previous: first });
  assert.equal(same.changed, false);
  const edited = buildDeployment({ spec: parseDeploymentText(GOOD.replace("512MiB", "1GiB")), twinId: 5, nodeId: 2, privateKey: user.privateKey, sealSecret: sealerFor(node.publicKey), previous: first });
  assert.equal(edited.changed, true);
  assert.equal(edited.deployment.version, 1);
  const db = edited.deployment.workloads.find((w) => w.name === "db")!;
  const data = edited.deployment.workloads.find((w) => w.name === "data")!;
  assert.equal(db.version, 0);
  assert.deepEqual(db, first.workloads.find((w) => w.name === "db"), "unchanged zdb must keep its sealed password");
  assert.equal(data.version, 1);
  const newPw = buildDeployment({ spec: parseDeploymentText(GOOD.replace("s3cret", "other")), twinId: 5, nodeId: 2, privateKey: user.privateKey, sealSecret: placeholderSealer, previous: first });
  assert.equal(newPw.changed, true, "a changed password is a change even though it is sealed");
});

const WITH_CONTAINER = `name: web
zdbs:
  - name: logs
    size: 256MiB
    mode: seq
    password: {env: LOG_PW}
volumes:
  - name: data
    size: 1GiB
containers:
  - name: app
    flist: {env: APP_FLIST}
    entrypoint: /bin/httpd -f -p 8080 -h /www
    env: { GREETING: hello, COUNT: 3 }
    secretEnv: { TOKEN: {env: APP_TOKEN}, INLINE: sesame }
    memory: 64MiB
    rootfsSize: 128MiB
    mounts: [{ volume: data, mountpoint: /data }]
    logs: { zdb: logs }
    http: 8080
`;
const CENV = { LOG_PW: "log-pw", APP_FLIST: "http://hub:1/flists/o/app#" + "a".repeat(64), APP_TOKEN: "tok-123" };

test("containers: parsed with sizes, env from the environment, checked against the file's volumes and 0-dbs", () => {
  const s = parseDeploymentText(WITH_CONTAINER, { env: CENV });
  const c = s.containers[0];
  assert.equal(c.flist, CENV.APP_FLIST);
  assert.equal(c.cpu, 1, "one CPU by default");
  assert.equal(c.memory, 64 * 1024 * 1024);
  assert.deepEqual(c.env, { GREETING: "hello", COUNT: "3" });
  assert.deepEqual(c.secretEnv, { TOKEN: "tok-123", INLINE: "sesame" });
  rejects(WITH_CONTAINER, /containers\[0\]\.secretEnv\.TOKEN: environment variable APP_TOKEN is not set/, { ...CENV, APP_TOKEN: "" });
  rejects(WITH_CONTAINER.replace("volume: data", "volume: nope"), /containers\[0\]\.mounts\[0\]\.volume: no volume named "nope"/, CENV);
  rejects(WITH_CONTAINER.replace("zdb: logs }", "zdb: other }"), /containers\[0\]\.logs\.zdb: no zdb named "other"/, CENV);
  rejects(WITH_CONTAINER.replace("mode: seq", "mode: user"), /must have `mode: seq`/, CENV);
  rejects(WITH_CONTAINER.replace("memory: 64MiB", "memory: lots"), /f\.yaml:\d+:\d+: containers\[0\]\.memory/, CENV);
  rejects(WITH_CONTAINER.replace("name: app", "name: data"), /"data" is already the name of volumes\[0\]/, CENV);
  rejects(WITH_CONTAINER.replace("    http: 8080\n", "    ports: [80]\n"), /ports|Unrecognized/i, CENV);
});

test("containers: one deployment with the 0-db their logs go to (named, the node fills its address in), secrets sealed to the node", () => {
  const user = generateKeyPair();
  const node = generateSealKeyPair();
  const spec = parseDeploymentText(WITH_CONTAINER, { env: CENV });
  const first = buildDeployment({ spec, twinId: 5, nodeId: 2, privateKey: user.privateKey, sealSecret: sealerFor(node.publicKey) });
  assert.deepEqual(first.deployment.workloads.map((w) => w.name).sort(), ["app", "data", "logs"], "nothing held back: one signed step");
  const app = first.deployment.workloads.find((w) => w.name === "app") as WorkloadOf<"container">;
  assert.equal(app.version, 0);
  assert.equal(app.data.rootfsSize, 128 * 1024 * 1024);
  assert.deepEqual(app.data.mounts, [{ volume: "data", mountpoint: "/data" }]);
  assert.equal(unseal(app.data.secretEnv.TOKEN, node), "tok-123");
  assert.equal(unseal(app.data.secretEnv.INLINE, node), "sesame");
  assert.deepEqual({ ...app.data.logs, password: undefined }, { address: "zdb:logs", namespace: "", password: undefined });
  assert.equal(unseal(app.data.logs!.password!, node), "log-pw");
  const text = JSON.stringify(first.deployment);
  for (const s of ["tok-123", "sesame", "log-pw"]) assert.ok(!text.includes(s), `${s} in clear on the deployment`);
  assert.deepEqual(JSON.parse(first.deployment.metadata).http, { app: 8080 });
  // Unchanged on a re-deploy; a new secret value is a change.
  assert.equal(buildDeployment({ spec, twinId: 5, nodeId: 2, privateKey: user.privateKey, sealSecret: sealerFor(node.publicKey), previous: first.deployment }).changed, false);
  const rotated = parseDeploymentText(WITH_CONTAINER, { env: { ...CENV, APP_TOKEN: "tok-456" } });
  assert.equal(buildDeployment({ spec: rotated, twinId: 5, nodeId: 2, privateKey: user.privateKey, sealSecret: sealerFor(node.publicKey), previous: first.deployment }).changed, true);
});

// Issue 10: a mistake is named at its own line, with what was meant and what is required.
const CONTAINER = `name: app
containers:
  - name: web
    flist: http://hub/flists/me/app
    cpu: 1
    memroy: 256MiB
    rootfsSize: 64MiB
`;

test("a typo'd key points at its own line, with a did-you-mean, and the missing field is named as required", () => {
  assert.throws(() => parseDeploymentText(CONTAINER, { file: "f.yaml" }), (e) => {
    assert.ok(e instanceof ValidationError);
    const lines = e.message.split("\n");
    assert.match(lines[0], /^f\.yaml:3:\d+: containers\[0\]\.memory: required, and missing here \(this entry needs name, flist, memory, rootfsSize\)$/);
    assert.match(lines[1], /^f\.yaml:6:5: containers\[0\]\.memroy: unknown key "memroy" \(did you mean "memory"\?\)$/);
    return true;
  });
  rejects(GOOD + "colour: blue\n", /^f\.yaml:11:1: colour: unknown key "colour"; known keys here: name, description, node, farm, zdbs, volumes, containers, networks, signers$/m);
  rejects(GOOD.replace("    public: false", "    pubilc: false"), /f\.yaml:7:5: zdbs\[0\]\.pubilc: unknown key "pubilc" \(did you mean "public"\?\)/);
  rejects(CONTAINER.replace("memroy", "memory").replace("    cpu: 1\n", "    cpu: 1\n    logs: {zdb: x, namspace: y}\n"), /f\.yaml:6:\d+: containers\[0\]\.logs\.namspace: unknown key "namspace" \(did you mean "namespace"\?\)/);
  rejects("containers: []\nvolumes: [{name: v, size: 1GiB}]\n", /^f\.yaml:1:1: name: required, and missing here \(a deployment file needs name\)/);
});

test("a YAML syntax error has its line and column", () => {
  rejects("name: a\nzdbs:\n  - name: db\n    size: [1GiB\n", /^f\.yaml:\d+:\d+: not valid YAML/);
  assert.throws(() => parseDeploymentText("name: a\nvolumes:\n  - name: v\n   size: 1GiB\n", { file: "f.yaml" }), (e) => {
    assert.ok(e instanceof ValidationError);
    assert.match(e.message, /^f\.yaml:4:\d+: not valid YAML/);
    assert.match(e.hint ?? "", /line:column/);
    return true;
  });
});
