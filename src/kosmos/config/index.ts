export { encryptSecrets, decryptSecrets, sealWithKey, openWithKey, envelopeSchema, DEFAULT_KDF, type Envelope } from "./crypto.js";
export { ConfigStore, settingsSchema, type Settings, type Identity, type PassphraseSource } from "./store.js";
export { passphraseSource, promptHidden, readSecretInput } from "./passphrase.js";
