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
