package io.capmesh.ml;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The ml tier: ONNX model inference (ml.onnx) as extensions on the runtime host, ONNX Runtime in the host. */
@SpringBootApplication
public class MlRuntimeApplication {

    public static void main(String[] args) {
        SpringApplication.run(MlRuntimeApplication.class, args);
    }
}
