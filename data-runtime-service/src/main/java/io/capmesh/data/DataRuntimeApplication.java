package io.capmesh.data;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The data tier: SQL over named, pooled JDBC datasources, served by the data.sql extension on the runtime host.
 * The pools and drivers are the host's, so swapping the extension never drops a connection.
 */
@SpringBootApplication
public class DataRuntimeApplication {

    public static void main(String[] args) {
        SpringApplication.run(DataRuntimeApplication.class, args);
    }
}
