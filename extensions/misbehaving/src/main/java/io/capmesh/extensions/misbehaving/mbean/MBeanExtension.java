package io.capmesh.extensions.misbehaving.mbean;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.lang.management.ManagementFactory;
import javax.management.ObjectName;

/** Registers an MBean of its own in the platform MBean server, as pools and caches do. */
public final class MBeanExtension implements Extension {

    @Override
    public void start(ExtensionContext context) throws Exception {
        ManagementFactory.getPlatformMBeanServer().registerMBean(new Counter(),
                new ObjectName("io.capmesh.test:type=Counter,name=mbean"));
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    /** A standard MBean's interface must be public and named after the class. */
    public interface CounterMBean {
        long getCount();
    }

    public static final class Counter implements CounterMBean {
        @Override
        public long getCount() {
            return 0;
        }
    }
}
