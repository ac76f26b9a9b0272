#!/usr/bin/env node
// Installs the system tools the tests run against, when missing: real registries and peers,
// not mocks. On Debian as root it uses apt-get; elsewhere it stops with the command to run.
import { execFileSync, spawnSync } from 'node:child_process';

/** Binary on PATH → the Debian package that brings it. */
const needs = [
  ['docker-registry', 'docker-registry'],
  ['skopeo', 'skopeo'],
  ['openssl', 'openssl'],
  ['htpasswd', 'apache2-utils'],
  ['tar', 'tar'],
  ['script', 'bsdutils'],
  // Real credential stores: the Secret Service keychain and docker-credential-pass.
  ['dbus-run-session', 'dbus'],
  ['gnome-keyring-daemon', 'gnome-keyring'],
  ['gpg', 'gnupg'],
  ['pass', 'pass'],
  ['docker-credential-pass', 'golang-docker-credential-helpers'],
];

const onPath = (binary) => spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
const missing = needs.filter(([binary]) => !onPath(binary)).map(([, debianPackage]) => debianPackage);

if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing)];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  console.error(
    `The tests need ${packages.join(', ')}. Install them with:\n  sudo apt-get install -y ${packages.join(' ')}`,
  );
  process.exit(1);
}
console.error(`Installing what the tests need: ${packages.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
  stdio: 'inherit',
  env,
});
const stillMissing = needs.filter(([binary]) => !onPath(binary)).map(([binary]) => binary);
if (stillMissing.length > 0) {
  console.error(`Still missing after the install: ${stillMissing.join(', ')}`);
  process.exit(1);
}
