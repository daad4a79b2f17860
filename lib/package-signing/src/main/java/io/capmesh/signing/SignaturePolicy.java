package io.capmesh.signing;

/** What a runtime demands of the packages it is given ({@code capmesh.runtime.signatures.policy}). */
public enum SignaturePolicy {
    /** Signatures are not looked at, not even a broken one. Only for working on extensions locally. */
    OFF,
    /** An unsigned package is accepted; a signed one must verify against a trusted key. The default. */
    VERIFY_IF_SIGNED,
    /** Every package must be signed by a trusted key. The production setting. */
    REQUIRED
}
