package io.capmesh.access;

/** What a principal may do beyond reading. Roles are granted to principals by configuration. */
public enum Role {
    /** Deploy, swap, unload and load extensions on runtimes: loading code is remote code execution by design. */
    DEPLOY,
    /** Generate, import and delete keys in the crypto runtime. */
    KEYS,
    /** Register a runtime with the broker and heartbeat. */
    RUNTIME,
    /** Take, renew and release leases, for the accounts granted. */
    ACQUIRE
}
