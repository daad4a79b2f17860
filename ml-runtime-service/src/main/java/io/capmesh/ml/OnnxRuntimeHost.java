package io.capmesh.ml;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import io.capmesh.runtime.HostServices;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * ONNX Runtime as the tier's shared library. Its native library can be loaded by one classloader per JVM, so the
 * host loads it (here, before any extension starts) and every extension takes {@code ai.onnxruntime.*} from the
 * host ({@code capmesh.runtime.shared-packages}); the one environment is lent to extensions as a host service.
 */
@Configuration(proxyBeanMethods = false)
class OnnxRuntimeHost {

    /** Lives as long as the JVM: ONNX Runtime keeps one environment per process, so it is never closed here. */
    @Bean(destroyMethod = "")
    OrtEnvironment ortEnvironment() {
        return OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "capmesh-ml");
    }

    @Bean
    HostServices hostServices(OrtEnvironment environment) {
        return new HostServices().register(OrtEnvironment.class, "", environment);
    }
}
