package io.capmesh.signing;

import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * Decides whether a package may be loaded under a {@link SignaturePolicy}. The signed list of entries is checked
 * first, then compared with what the jar really holds, so a refusal names the entry that was added, removed or
 * altered, or the key that is not trusted.
 */
public final class PackageVerifier {

    /** What verifying a package came to. */
    public sealed interface Verdict {
    }

    /** Signed by a trusted key, and nothing changed since. */
    public record Verified(String keyId, SignatureAlgorithm algorithm) implements Verdict {
    }

    /** Not checked: unsigned where the policy allows it, or the policy is off. */
    public record Unchecked(String reason) implements Verdict {
    }

    /** The package must not be loaded. */
    public record Refused(Reason reason, String message) implements Verdict {
    }

    public enum Reason {
        /** Unsigned where the policy requires a signature. */
        UNSIGNED,
        /** Signed by a key this runtime does not trust. */
        UNTRUSTED_KEY,
        /** An entry or the signature changed after signing, or the signature file is malformed. */
        TAMPERED
    }

    private static final int NAMED_ENTRIES = 10;

    private final SignaturePolicy policy;
    private final TrustedKeys trusted;

    public PackageVerifier(SignaturePolicy policy, TrustedKeys trusted) {
        this.policy = policy;
        this.trusted = trusted;
    }

    public SignaturePolicy policy() {
        return policy;
    }

    public TrustedKeys trusted() {
        return trusted;
    }

    /** Whether the entries' digests are needed at all: they cost a SHA-256 over every byte of the jar. */
    public boolean needsContents(boolean signed) {
        return policy == SignaturePolicy.REQUIRED || (policy == SignaturePolicy.VERIFY_IF_SIGNED && signed);
    }

    public Verdict verify(PackageContents contents) {
        if (policy == SignaturePolicy.OFF) {
            return new Unchecked("signatures.policy is off");
        }
        if (!contents.signed()) {
            return policy == SignaturePolicy.REQUIRED
                    ? new Refused(Reason.UNSIGNED, "it is not signed (no " + PackageSignature.PATH + ") and this "
                            + "runtime requires signed packages; sign it with `capmesh sign JAR --key KEY.pem` using a key "
                            + "whose public key is in capmesh.runtime.signatures.trusted-keys")
                    : new Unchecked("unsigned");
        }
        if (!contents.duplicates().isEmpty()) {
            return new Refused(Reason.TAMPERED, "it names " + contents.duplicates() + " more than once, so tools "
                    + "disagree on what it holds; rebuild and sign it again");
        }
        PackageSignature signature;
        SignatureAlgorithm algorithm;
        try {
            signature = PackageSignature.parse(contents.signature());
            algorithm = SignatureAlgorithm.named(signature.algorithm());
        } catch (IllegalArgumentException e) {
            return new Refused(Reason.TAMPERED, e.getMessage() + "; sign the jar again");
        }
        PublicKey key = trusted.find(signature.keyId()).orElse(null);
        if (key == null) {
            return new Refused(Reason.UNTRUSTED_KEY, "it is signed with key " + signature.keyId()
                    + ", which this runtime does not trust (" + (trusted.isEmpty() ? "no keys are trusted"
                    : "trusted: " + String.join(", ", trusted.ids())) + "); add that public key to "
                    + "capmesh.runtime.signatures.trusted-keys, or sign with a trusted key");
        }
        if (SignatureAlgorithm.of(key) != algorithm) {
            return new Refused(Reason.TAMPERED, PackageSignature.PATH + " says " + algorithm + " but key "
                    + signature.keyId() + " is a " + SignatureAlgorithm.of(key) + " key; sign the jar again");
        }
        try {
            if (!verifies(algorithm, key, signature)) {
                return new Refused(Reason.TAMPERED, "its signature does not verify with key " + signature.keyId()
                        + ": " + PackageSignature.PATH + " was altered after signing");
            }
        } catch (IllegalArgumentException e) {
            return new Refused(Reason.TAMPERED, e.getMessage() + "; sign the jar again");
        }
        List<String> changes = changes(signature.entries(), contents.digests());
        if (!changes.isEmpty()) {
            return new Refused(Reason.TAMPERED, "it changed after it was signed with key " + signature.keyId() + ": "
                    + String.join(", ", changes) + "; rebuild it and sign it again");
        }
        return new Verified(signature.keyId(), algorithm);
    }

    private static boolean verifies(SignatureAlgorithm algorithm, PublicKey key, PackageSignature signature) {
        try {
            Signature verifier = algorithm.newSignature();
            verifier.initVerify(key);
            verifier.update(signature.canonicalDigest());
            return verifier.verify(signature.signatureBytes());
        } catch (GeneralSecurityException malformed) {
            return false;
        }
    }

    private static List<String> changes(SortedMap<String, String> signed, SortedMap<String, String> actual) {
        List<String> changes = new ArrayList<>();
        for (Map.Entry<String, String> entry : actual.entrySet()) {
            String expected = signed.get(entry.getKey());
            if (expected == null) {
                changes.add("entry " + entry.getKey() + " was added");
            } else if (!expected.equalsIgnoreCase(entry.getValue())) {
                changes.add("entry " + entry.getKey() + " was altered");
            }
        }
        signed.keySet().stream().filter(name -> !actual.containsKey(name))
                .forEach(name -> changes.add("entry " + name + " was removed"));
        if (changes.size() > NAMED_ENTRIES) {
            int more = changes.size() - NAMED_ENTRIES;
            List<String> named = new ArrayList<>(changes.subList(0, NAMED_ENTRIES));
            named.add("and " + more + " more");
            return named;
        }
        return changes;
    }
}
