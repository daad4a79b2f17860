package io.capmesh.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "certs", sortOptions = false,
        header = "Make a development CA and certificates for TLS and mutual TLS.",
        description = {"Make, in DIR, a development certificate authority (ca.pem, ca-key.pem) and, signed by it, a"
                + " certificate for each service of a mesh (broker.pem, core-runtime.pem, data-runtime.pem,"
                + " ml-runtime.pem, crypto-runtime.pem) and one for clients (client.pem), each with its private key"
                + " (NAME-key.pem, PKCS#8, readable by its owner only). Keys are ECDSA P-256.",
                "`capmesh up --tls DIR` starts a local mesh with mutual TLS on these; the other commands take"
                + " --tls DIR to talk to it. For development only: anyone holding ca-key.pem can make certificates"
                + " every service trusts."})
final class CertsCommand implements Callable<Integer> {

    @Mixin
    private Output output;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the files.")
    private Path dir;

    @Option(names = "--hosts", split = ",", paramLabel = "HOST", defaultValue = "127.0.0.1,localhost,::1",
            description = "The names and IP addresses the services are reached at, in each service certificate"
                    + " (default: ${DEFAULT-VALUE}); the service's own name is added.")
    private List<String> hosts;

    @Option(names = "--days", defaultValue = "365", paramLabel = "DAYS",
            description = "How long the certificates are valid (default: ${DEFAULT-VALUE}).")
    private int days;

    @Option(names = "--force", description = "Replace certificates already in DIR (they are never replaced otherwise).")
    private boolean force;

    @Override
    public Integer call() {
        if (days < 1) {
            throw CliFailure.usage("--days must be at least 1, got " + days);
        }
        List<String> names = hosts.stream().map(String::trim).filter(h -> !h.isEmpty()).toList();
        if (names.isEmpty()) {
            throw CliFailure.usage("--hosts names no host");
        }
        TlsDirectory tls = new TlsDirectory(dir);
        DevCertificates certificates = DevCertificates.newAuthority(Duration.ofDays(days));
        Map<String, DevCertificates.Issued> issued = new LinkedHashMap<>();
        for (LocalMesh.Service service : LocalMesh.Service.values()) {
            List<String> serviceHosts = new ArrayList<>(names);
            serviceHosts.add(service.serviceName());
            issued.put(service.serviceName(), certificates.server("capmesh " + service.serviceName(), serviceHosts));
        }
        issued.put(TlsDirectory.CLIENT, certificates.client("capmesh client"));

        Map<Path, String> files = new LinkedHashMap<>();
        files.put(tls.ca(), certificates.authority().certificatePem());
        files.put(tls.dir().resolve(TlsDirectory.CA_KEY), certificates.authority().keyPem());
        issued.forEach((name, pair) -> {
            files.put(tls.certificate(name), pair.certificatePem());
            files.put(tls.key(name), pair.keyPem());
        });
        List<Path> existing = files.keySet().stream().filter(Files::exists).toList();
        if (!existing.isEmpty() && !force) {
            throw CliFailure.usage(existing.get(0) + (existing.size() > 1 ? " and " + (existing.size() - 1)
                    + " more exist" : " exists") + ": pass --force to replace them, or choose another --out");
        }
        try {
            Files.createDirectories(tls.dir());
            for (var file : files.entrySet()) {
                write(file.getKey(), file.getValue(), file.getKey().getFileName().toString().endsWith("-key.pem"));
            }
        } catch (IOException e) {
            throw CliFailure.failed("cannot write the certificates to " + tls.dir() + ": " + e.getMessage());
        }

        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("dir", tls.dir().toString());
            json.put("ca", tls.ca().toString());
            json.put("hosts", names);
            json.put("validDays", days);
            Map<String, Map<String, String>> pairs = new LinkedHashMap<>();
            issued.keySet().forEach(name -> pairs.put(name,
                    Map.of("certificate", tls.certificate(name).toString(), "key", tls.key(name).toString())));
            json.put("certificates", pairs);
            output.json(json);
            return ExitCode.OK;
        }
        Table table = Table.of("for", "certificate", "key", "names");
        table.row("CA", tls.ca(), tls.dir().resolve(TlsDirectory.CA_KEY), "");
        issued.forEach((name, pair) -> table.row(name, tls.certificate(name), tls.key(name),
                name.equals(TlsDirectory.CLIENT) ? "(client only)" : String.join(",", names) + "," + name));
        output.table(table);
        output.say("Valid for " + days + " days. Start a mesh on them: capmesh up --tls " + tls.dir()
                + "; talk to it: capmesh list --tls " + tls.dir());
        return ExitCode.OK;
    }

    private static void write(Path file, String content, boolean secret) throws IOException {
        Files.deleteIfExists(file);
        if (secret && FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, content, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        } else {
            Files.writeString(file, content, StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW);
        }
    }
}
