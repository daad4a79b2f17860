package io.capmesh.tls.spring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A directory laid out as the kubelet mounts a Secret: each key a symbolic link through {@code ..data} to a
 * directory of the current version, and an update a new version directory and one atomic switch of {@code ..data}.
 */
final class SecretVolume {

    private static final String[] KEYS = {"tls.crt", "tls.key", "ca.crt"};

    private final Path dir;
    private final TestCa ca;
    private int version;

    SecretVolume(Path dir, TestCa ca) {
        this.dir = dir;
        this.ca = ca;
    }

    Path file(String key) {
        return dir.resolve(key);
    }

    /** Publishes a new version of the Secret holding {@code issued}. */
    void publish(TestCa.Issued issued) throws IOException {
        Path next = dir.resolve("..version-" + ++version);
        ca.write(issued, next);
        Path link = dir.resolve("..data_tmp");
        Files.createSymbolicLink(link, next.getFileName());
        Files.move(link, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        if (version == 1) {
            for (String key : KEYS) {
                Files.createSymbolicLink(dir.resolve(key), Path.of("..data", key));
            }
        }
    }
}
