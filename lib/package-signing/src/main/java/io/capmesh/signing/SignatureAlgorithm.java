package io.capmesh.signing;

import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;

/**
 * The two signature schemes a package may be signed with, both in every JDK 17. ECDSA signatures are {@code r‖s}
 * (64 bytes), as the crypto runtime makes them.
 */
public enum SignatureAlgorithm {
    ED25519("Ed25519", "Ed25519"),
    ECDSA_P256("ECDSA-P256-SHA256", "SHA256withECDSAinP1363Format");

    private static final ECParameterSpec P256 = p256();

    private final String label;
    private final String jcaName;

    SignatureAlgorithm(String label, String jcaName) {
        this.label = label;
        this.jcaName = jcaName;
    }

    /** The name written in {@code signature.json}. */
    public String label() {
        return label;
    }

    Signature newSignature() throws GeneralSecurityException {
        return Signature.getInstance(jcaName);
    }

    /** Takes a label ({@code Ed25519}) or a command-line spelling ({@code ed25519}, {@code ecdsa-p256}). */
    public static SignatureAlgorithm named(String name) {
        for (SignatureAlgorithm algorithm : values()) {
            if (algorithm.label.equalsIgnoreCase(name)
                    || algorithm.name().replace('_', '-').equalsIgnoreCase(name)) {
                return algorithm;
            }
        }
        throw new IllegalArgumentException("unknown signature algorithm '" + name + "'; use "
                + ED25519.label + " or " + ECDSA_P256.label);
    }

    /** The algorithm a public key signs with, or an exception naming what it is instead. */
    public static SignatureAlgorithm of(PublicKey key) {
        if (key instanceof EdECPublicKey ed && ed.getParams().getName().equalsIgnoreCase("Ed25519")) {
            return ED25519;
        }
        if (key instanceof ECPublicKey ec && isP256(ec.getParams())) {
            return ECDSA_P256;
        }
        throw new IllegalArgumentException("a " + key.getAlgorithm() + " key cannot sign packages; use an Ed25519 or "
                + "an ECDSA P-256 key (capmesh keygen makes one)");
    }

    KeyPairGenerator newKeyPairGenerator() throws GeneralSecurityException {
        if (this == ED25519) {
            return KeyPairGenerator.getInstance("Ed25519");
        }
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator;
    }

    private static boolean isP256(ECParameterSpec params) {
        return params.getOrder().equals(P256.getOrder()) && params.getCofactor() == P256.getCofactor()
                && params.getCurve().equals(P256.getCurve()) && params.getGenerator().equals(P256.getGenerator());
    }

    private static ECParameterSpec p256() {
        try {
            java.security.AlgorithmParameters parameters = java.security.AlgorithmParameters.getInstance("EC");
            parameters.init(new ECGenParameterSpec("secp256r1"));
            return parameters.getParameterSpec(ECParameterSpec.class);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK 17 has the P-256 curve", e);
        }
    }

    @Override
    public String toString() {
        return label;
    }
}
