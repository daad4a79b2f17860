package io.capmesh.core;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The core tier: JSON, compression and echo capabilities, each an extension on the runtime host. */
@SpringBootApplication
public class CoreRuntimeApplication {

    public static void main(String[] args) {
        SpringApplication.run(CoreRuntimeApplication.class, args);
    }
}
