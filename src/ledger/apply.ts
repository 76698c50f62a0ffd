// The state machine: apply(state, tx, blockTime) → events, or a thrown GridError and the state
// untouched. Every handler validates first and mutates after, so a refusal changes nothing. Pure:
// time comes in as the block time, signatures of the envelope were checked by parseTx on admission.
import {
  ConflictError, ForbiddenError, InsufficientFundsError, NonceError, NotFoundError, ValidationError, SignatureError, CapacityError,
  verifyObject, deploymentCapacity, capacityShortfall, subCapacity, reservationCost, approvalStatus,
  type Tx, type Payload, type TxType, type Deployment, type DeploymentSignature, type Capacity,
} from "../core/index.js";
import type { EventBody } from "./types.js";
import {
  type State, type ContractRec, type NodeRec, GENESIS_TWIN, contractDue, recomputeBillingDue, reserve, unreserve,
} from "./state.js";

type Handler<T extends TxType> = (s: State, tx: Tx<T>, twinId: number | undefined, time: number) => EventBody[];

/** Apply one admitted transaction at `time`. Throws (state unchanged) or returns its events. */
export function apply(s: State, tx: Tx, time: number): EventBody[] {
  const last = s.nonces.get(tx.signer) ?? 0;
  if (tx.nonce <= last) throw new NonceError(`nonce ${tx.nonce} was already used (the signer's last nonce is ${last})`, `send nonce ${last + 1}`);
  if (tx.nonce > last + 1) throw new NonceError(`nonce ${tx.nonce} skips ahead (the signer's last nonce is ${last})`, `send nonce ${last + 1}`);
  const twinId = s.twinByKey.get(tx.signer);
  if (tx.type !== "twin.create" && twinId === undefined) {
    throw new ForbiddenError(`signer ${tx.signer.slice(0, 12)}… has no twin`, "send twin.create first");
  }
  const events = (handlers[tx.type] as Handler<TxType>)(s, tx, twinId, time);
  s.nonces.set(tx.signer, tx.nonce);
  return events;
}

const handlers: { [T in TxType]: Handler<T> } = {
  "twin.create": (s, tx, twinId, time) => {
    if (twinId !== undefined) throw new ConflictError(`this key already has twin ${twinId}`);
    const id = s.next.twin++;
    s.twins.set(id, { id, publicKey: tx.signer, balance: 0, createdAt: time });
    s.twinByKey.set(tx.signer, id);
    return [{ type: "twin.created", twinId: id }];
  },

  "transfer": (s, tx, from) => {
    const { to, amount } = tx.payload;
    if (to === from) throw new ValidationError("a transfer to oneself does nothing", "pick another twin");
    const dst = s.twins.get(to);
    if (!dst) throw new NotFoundError(`twin ${to} does not exist`);
    const src = s.twins.get(from!)!;
    if (src.balance < amount) throw new InsufficientFundsError(`twin ${from} has ${src.balance}, less than the ${amount} to transfer`);
    src.balance -= amount;
    dst.balance += amount;
    return [{ type: "transfer", from: from!, to, amount }];
  },

  "mint": (s, tx, twinId) => {
    if (twinId !== GENESIS_TWIN) throw new ForbiddenError("only the genesis key may mint");
    const { to, amount } = tx.payload;
    const dst = s.twins.get(to);
    if (!dst) throw new NotFoundError(`twin ${to} does not exist`);
    if (s.supply + amount > Number.MAX_SAFE_INTEGER) throw new ValidationError("minting that much would overflow the supply");
    dst.balance += amount;
    s.supply += amount;
    return [{ type: "mint", to, amount }];
  },

  "farm.create": (s, tx, twinId) => {
    const { name } = tx.payload;
    const taken = s.farmByName.get(name);
    if (taken !== undefined) throw new ConflictError(`farm name "${name}" is taken by farm ${taken}`, "choose another name");
    const id = s.next.farm++;
    s.farms.set(id, { id, name, twinId: twinId! });
    s.farmByName.set(name, id);
    return [{ type: "farm.created", farmId: id, twinId: twinId! }];
  },

  "node.register": (s, tx, twinId, time) => {
    const p = tx.payload;
    if (!s.farms.has(p.farmId)) throw new NotFoundError(`farm ${p.farmId} does not exist`);
    const existing = s.nodeByTwin.get(twinId!);
    if (existing !== undefined) {
      const n = s.nodes.get(existing)!;
      Object.assign(n, { farmId: p.farmId, capacity: p.capacity, sealKey: p.sealKey, underlay: p.underlay, publicConfig: p.publicConfig ?? null });
      return [{ type: "node.registered", nodeId: n.id, twinId: twinId!, farmId: p.farmId }];
    }
    const id = s.next.node++;
    const n: NodeRec = {
      id, farmId: p.farmId, twinId: twinId!, capacity: p.capacity, used: { cru: 0, mru: 0, sru: 0, hru: 0 }, reserved: { cru: 0, mru: 0, sru: 0, hru: 0 },
      sealKey: p.sealKey, underlay: p.underlay, publicConfig: p.publicConfig ?? null, lastReportAt: null, uptime: 0, registeredAt: time,
    };
    s.nodes.set(id, n);
    s.nodeByTwin.set(twinId!, id);
    return [{ type: "node.registered", nodeId: id, twinId: twinId!, farmId: p.farmId }];
  },

  "node.report": (s, tx, twinId, time) => {
    const n = s.nodes.get(tx.payload.nodeId);
    if (!n) throw new NotFoundError(`node ${tx.payload.nodeId} does not exist`);
    if (n.twinId !== twinId) throw new ForbiddenError(`only node ${n.id}'s own twin (${n.twinId}) may report for it`);
    n.lastReportAt = time;
    n.uptime = tx.payload.uptime;
    n.used = tx.payload.used;
    return [{ type: "node.reported", nodeId: n.id, twinId: n.twinId }];
  },

  "contract.create": (s, tx, twinId, time) => {
    const { deployment: d, deploymentSignature } = tx.payload;
    if (d.twinId !== twinId) throw new ForbiddenError(`the deployment is for twin ${d.twinId} but the signer is twin ${twinId}`, "sign with the deployment's own twin");
    const node = s.nodes.get(d.nodeId);
    if (!node) throw new NotFoundError(`node ${d.nodeId} does not exist`);
    checkDeploymentSignature(d, deploymentSignature, tx.signer);
    const capacity = deploymentCapacity(d);
    const short = capacityShortfall(capacity, subCapacity(node.capacity, node.reserved));
    if (short) throw new CapacityError(`node ${node.id} cannot hold this deployment: it ${short}`, "pick a node with more free capacity");
    const id = s.next.contract;
    const names = nameWorkloads(d);
    checkNames(s, names, twinId!, id);
    s.next.contract++;
    const c: ContractRec = {
      id, twinId: twinId!, nodeId: node.id, state: "active", deployment: d, signatures: [], approved: false,
      approvedVersion: null, approvedDeployment: null, approvedSignatures: [], results: {}, capacity, names: [],
      costPerPeriod: 0, createdAt: time, updatedAt: time, billedUntil: time,
    };
    const events: EventBody[] = [{ type: "contract.created", contractId: id, twinId: twinId!, nodeId: node.id, version: d.version, signers: signersOf(d) }];
    s.contracts.set(id, c);
    reserve(node, capacity);
    events.push(...linkNames(s, c, names));
    c.costPerPeriod = costOf(s, c);
    s.billable.add(id);
    s.billingDue = Math.min(s.billingDue, contractDue(c, s.genesis));
    events.push(...addSignature(s, c, { twinId: twinId!, signature: deploymentSignature }));
    return events;
  },

  "contract.approve": (s, tx, twinId, time) => {
    const { contractId, version, deploymentSignature } = tx.payload;
    const c = liveContract(s, contractId);
    if (version !== c.deployment.version) throw new ConflictError(`contract ${contractId} is at version ${c.deployment.version}, not ${version}`, "approve the latest version");
    if (!c.deployment.signatureRequirement.requests.some((r) => r.twinId === twinId)) {
      throw new ForbiddenError(`twin ${twinId} is not in contract ${contractId}'s signature requirement`);
    }
    if (c.signatures.some((x) => x.twinId === twinId)) throw new ConflictError(`twin ${twinId} has already signed version ${version} of contract ${contractId}`);
    checkDeploymentSignature(c.deployment, deploymentSignature, tx.signer);
    c.updatedAt = time;
    return addSignature(s, c, { twinId: twinId!, signature: deploymentSignature });
  },

  "contract.update": (s, tx, twinId, time) => {
    const { contractId, deployment: d, deploymentSignature } = tx.payload;
    const c = liveContract(s, contractId);
    if (c.twinId !== twinId) throw new ForbiddenError(`only contract ${contractId}'s twin (${c.twinId}) may update it`);
    if (d.twinId !== c.twinId || d.nodeId !== c.nodeId) throw new ValidationError(`an update keeps the contract's twin ${c.twinId} and node ${c.nodeId}`, "create a new contract to move a deployment");
    if (d.version !== c.deployment.version + 1) throw new ConflictError(`contract ${contractId} is at version ${c.deployment.version}; an update must be version ${c.deployment.version + 1}, not ${d.version}`);
    checkDeploymentSignature(d, deploymentSignature, tx.signer);
    const node = s.nodes.get(c.nodeId)!;
    const capacity = deploymentCapacity(d);
    const short = capacityShortfall(capacity, subCapacity(subCapacity(node.capacity, node.reserved), negate(c.capacity)));
    if (short) throw new CapacityError(`node ${node.id} cannot hold this version: it ${short}`);
    const names = nameWorkloads(d);
    checkNames(s, names, c.twinId, c.id);
    unreserve(node, c.capacity);
    reserve(node, capacity);
    c.capacity = capacity;
    c.deployment = d;
    c.signatures = [];
    c.approved = false;
    c.updatedAt = time;
    const events: EventBody[] = [{ type: "contract.updated", contractId: c.id, twinId: c.twinId, nodeId: c.nodeId, version: d.version, signers: signersOf(d) }];
    events.push(...linkNames(s, c, names));
    c.costPerPeriod = costOf(s, c);
    events.push(...addSignature(s, c, { twinId: twinId!, signature: deploymentSignature }));
    return events;
  },

  "contract.cancel": (s, tx, twinId, time) => {
    const c = liveContract(s, tx.payload.contractId);
    if (c.twinId !== twinId) throw new ForbiddenError(`only contract ${c.id}'s twin (${c.twinId}) may cancel it`);
    // The time since the last charge is paid pro rata, as far as the balance goes.
    const events: EventBody[] = [];
    const owed = reservationCost(c.capacity, { publicIps: 0, names: c.names.length }, Math.max(0, time - c.billedUntil));
    const paid = Math.min(owed, s.twins.get(c.twinId)!.balance);
    if (paid > 0) events.push(pay(s, c, paid));
    c.billedUntil = time;
    events.push(deleteContract(s, c, "cancelled", time));
    return events;
  },

  "contract.result": (s, tx, twinId, time) => {
    const { contractId, version, results } = tx.payload;
    const c = s.contracts.get(contractId);
    if (!c) throw new NotFoundError(`contract ${contractId} does not exist`);
    const nodeId = s.nodeByTwin.get(twinId!);
    if (nodeId === undefined) throw new ForbiddenError(`twin ${twinId} is not a node; only contract ${contractId}'s node (${c.nodeId}) may post its results`);
    if (nodeId !== c.nodeId) throw new ForbiddenError(`node ${nodeId} may not post results for contract ${contractId}, which belongs to node ${c.nodeId}`);
    if (version > c.deployment.version) throw new ValidationError(`contract ${contractId} has no version ${version} (latest is ${c.deployment.version})`);
    // A result speaks of a workload the contract has (or had: a workload an update removed, or a
    // deleted contract's, may only be reported gone). Checked for every result before any is kept.
    const named = new Set([...c.deployment.workloads, ...(c.approvedDeployment?.workloads ?? [])].map((w) => w.name));
    for (const r of results) {
      const had = named.has(r.name) || r.name in c.results;
      if (!had) throw new NotFoundError(`contract ${contractId} has no workload "${r.name}"`, "post results only for the workloads of the contract's deployment");
      if (r.state !== "deleted" && c.state === "deleted") throw new ConflictError(`contract ${contractId} is deleted: its workload "${r.name}" can only be reported deleted, not ${r.state}`);
      if (r.state !== "deleted" && !named.has(r.name)) throw new ConflictError(`workload "${r.name}" is no longer in contract ${contractId}: it can only be reported deleted, not ${r.state}`);
    }
    for (const r of results) c.results[r.name] = { ...r, version };
    c.updatedAt = time;
    return [{ type: "contract.result", contractId, twinId: c.twinId, nodeId: c.nodeId, version, names: results.map((r) => r.name) }];
  },

  "name.reserve": (s, tx, twinId) => {
    const { name } = tx.payload;
    const rec = s.names.get(name);
    if (rec) throw new ConflictError(`name "${name}" is taken by twin ${rec.twinId}`, "choose another name");
    s.names.set(name, { name, twinId: twinId!, contractId: null });
    return [{ type: "name.reserved", name, twinId: twinId! }];
  },

  "name.release": (s, tx, twinId) => {
    const { name } = tx.payload;
    const rec = s.names.get(name);
    if (!rec) throw new NotFoundError(`name "${name}" is not reserved`);
    if (rec.twinId !== twinId) throw new ForbiddenError(`name "${name}" belongs to twin ${rec.twinId}`);
    if (rec.contractId !== null) throw new ConflictError(`name "${name}" is used by contract ${rec.contractId}`, "cancel or update that contract first");
    s.names.delete(name);
    return [{ type: "name.released", name, twinId: twinId! }];
  },
};

/** Billing at a block boundary: every contract whose period ended by `time` pays for it, enters
 *  grace when it cannot, resumes when it can again, and is deleted when grace runs out. */
export function applyBilling(s: State, time: number): EventBody[] {
  if (time < s.billingDue) return [];
  const events: EventBody[] = [];
  const g = s.genesis;
  for (const id of [...s.billable].sort((a, b) => a - b)) {
    const c = s.contracts.get(id)!;
    while (c.state !== "deleted" && contractDue(c, g) <= time) {
      const periodEnd = c.billedUntil + g.billingPeriod;
      if (c.state === "grace" && c.graceSince! + g.gracePeriod <= Math.min(time, periodEnd)) {
        events.push(deleteContract(s, c, "out of funds", c.graceSince! + g.gracePeriod));
        break;
      }
      const twin = s.twins.get(c.twinId)!;
      if (twin.balance >= c.costPerPeriod) {
        if (c.costPerPeriod > 0) events.push(pay(s, c, c.costPerPeriod));
        c.billedUntil = periodEnd;
        if (c.state === "grace") {
          c.state = "active";
          c.updatedAt = time;
          delete c.graceSince;
          events.push({ type: "contract.resumed", contractId: c.id, twinId: c.twinId, nodeId: c.nodeId });
        }
      } else {
        // Short of funds: the period stays unpaid (the workloads pause in grace); retry next period.
        c.billedUntil = periodEnd;
        if (c.state === "active") {
          c.state = "grace";
          c.graceSince = periodEnd;
          c.updatedAt = time;
          events.push({ type: "contract.grace", contractId: c.id, twinId: c.twinId, nodeId: c.nodeId });
        }
      }
    }
  }
  recomputeBillingDue(s);
  return events;
}

// ---- helpers ----

function checkDeploymentSignature(d: Deployment, signature: string, publicKey: string): void {
  if (!verifyObject(d, publicKey, signature)) {
    throw new SignatureError(`deploymentSignature is not the signer's signature of deployment version ${d.version}`, "sign the deployment with signDeployment and the same key as the transaction");
  }
}

function liveContract(s: State, id: number): ContractRec {
  const c = s.contracts.get(id);
  if (!c) throw new NotFoundError(`contract ${id} does not exist`);
  if (c.state === "deleted") throw new ConflictError(`contract ${id} is deleted (${c.deletedReason})`);
  return c;
}

function addSignature(s: State, c: ContractRec, sig: DeploymentSignature): EventBody[] {
  const events: EventBody[] = [];
  // Only signatures the requirement asks for are kept: approvedSignatures then verify cleanly.
  if (c.deployment.signatureRequirement.requests.some((r) => r.twinId === sig.twinId)) {
    c.signatures.push(sig);
    events.push({ type: "contract.signed", contractId: c.id, twinId: sig.twinId, nodeId: c.nodeId, version: c.deployment.version });
  }
  if (!c.approved) {
    const st = approvalStatus(c.deployment, c.signatures, (t) => s.twins.get(t)?.publicKey);
    if (st.approved) {
      c.approved = true;
      c.approvedVersion = c.deployment.version;
      c.approvedDeployment = c.deployment;
      c.approvedSignatures = [...c.signatures];
      events.push({ type: "contract.approved", contractId: c.id, twinId: c.twinId, nodeId: c.nodeId, version: c.deployment.version });
    }
  }
  return events;
}

function nameWorkloads(d: Deployment): string[] {
  const out: string[] = [];
  for (const w of d.workloads) if (w.type === "gateway-name-proxy") out.push(w.data.name);
  return out;
}

function checkNames(s: State, names: string[], twinId: number, contractId: number): void {
  if (new Set(names).size !== names.length) throw new ValidationError("a gateway name is used twice in the deployment");
  for (const n of names) {
    const rec = s.names.get(n);
    if (rec && rec.twinId !== twinId) throw new ConflictError(`name "${n}" is taken by twin ${rec.twinId}`, "choose another name");
    if (rec && rec.contractId !== null && rec.contractId !== contractId) throw new ConflictError(`name "${n}" is used by contract ${rec.contractId}`);
  }
}

/** Point the contract's gateway names at it (reserving the free ones) and release the link of names it no longer uses. */
function linkNames(s: State, c: ContractRec, names: string[]): EventBody[] {
  const events: EventBody[] = [];
  for (const old of c.names) if (!names.includes(old)) { const r = s.names.get(old); if (r) r.contractId = null; }
  for (const n of names) {
    const rec = s.names.get(n);
    if (rec) rec.contractId = c.id;
    else {
      s.names.set(n, { name: n, twinId: c.twinId, contractId: c.id });
      events.push({ type: "name.reserved", name: n, twinId: c.twinId });
    }
  }
  c.names = names;
  return events;
}

function costOf(s: State, c: ContractRec): number {
  return reservationCost(c.capacity, { publicIps: 0, names: c.names.length }, s.genesis.billingPeriod);
}

function pay(s: State, c: ContractRec, amount: number): EventBody {
  const node = s.nodes.get(c.nodeId)!;
  const farmer = s.twins.get(s.farms.get(node.farmId)!.twinId)!;
  s.twins.get(c.twinId)!.balance -= amount;
  farmer.balance += amount;
  return { type: "contract.billed", contractId: c.id, twinId: c.twinId, nodeId: c.nodeId, amount };
}

function deleteContract(s: State, c: ContractRec, reason: "cancelled" | "out of funds", time: number): EventBody {
  c.state = "deleted";
  c.deletedReason = reason;
  c.updatedAt = Math.max(c.updatedAt, time);
  delete c.graceSince;
  unreserve(s.nodes.get(c.nodeId)!, c.capacity);
  for (const n of c.names) { const r = s.names.get(n); if (r && r.contractId === c.id) r.contractId = null; }
  s.billable.delete(c.id);
  return { type: "contract.deleted", contractId: c.id, twinId: c.twinId, nodeId: c.nodeId, reason };
}

function negate(c: Capacity): Capacity {
  return { cru: -c.cru, mru: -c.mru, sru: -c.sru, hru: -c.hru };
}

export type { Payload };

/** The twins a version asks to sign it: named in its events so a co-signer's twin filter sees it. */
function signersOf(d: Deployment): number[] {
  return d.signatureRequirement.requests.map((r) => r.twinId);
}
