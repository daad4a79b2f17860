package io.capmesh.extensions.misbehaving.missingclass;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;

/**
 * Needs {@link AbsentHelper}, which its jar does not contain: the constructor creates one, so creating the
 * extension fails with a NoClassDefFoundError at load, not on some later call.
 */
public final class MissingClassExtension implements Extension {

    private final AbsentHelper helper;

    public MissingClassExtension() {
        helper = new AbsentHelper();
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("ok")) {
            return helper.answer(invocation.payload());
        }
        throw CapabilityException.notFound("test.missing-class has no method " + invocation.method());
    }
}
