package io.capmesh.extensions.misbehaving.resourcebundle;

import java.util.ListResourceBundle;

/** The extension's messages. */
public final class Messages extends ListResourceBundle {
    @Override
    protected Object[][] getContents() {
        return new Object[][] {{"greeting", "hello"}};
    }
}
