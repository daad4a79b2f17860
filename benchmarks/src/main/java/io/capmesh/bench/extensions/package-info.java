/**
 * Extensions for the reclamation scenarios that {@code extensions/misbehaving} has no case for. They are never
 * loaded from the bench's class path: {@code ExtensionJars.ofClasses} packs each into a jar of its own, loaded by
 * a classloader of its own like any extension. Each uses JDK types and the SPI only.
 */
package io.capmesh.bench.extensions;
