'use strict';
// s3rver (a file-backed S3) for emulator/s3/files.py, which starts it and puts the POST-policy front
// before it. Protocol: the parent writes ONE line of JSON to stdin
//   {"directory": "...", "host": "127.0.0.1", "port": 0, "credentials": {"key": "secret"}, "title": "..."}
// and keeps stdin open; once listening this prints ONE line of JSON to stdout: {"port": N}.
// stdin reaching EOF means the parent is gone (even after `kill -9`: the kernel closes its end of the
// pipe), and so does a change of parent pid: either way this process stops, it never outlives `up`.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { Readable, Transform } = require('stream');
const { pipeline } = require('stream/promises');

const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');
const S3Error = require('s3rver/lib/models/error');
const S3Object = require('s3rver/lib/models/object');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

const PARENT_CHECK_MS = 1000;
const STOP_GRACE_MS = 2000;
let temporaryCount = 0;

// --- durable writes ---------------------------------------------------------------------------
// s3rver 3.7.1 writes an object in place and answers before its bytes are on disk (it resolves on the
// hashing stream's 'finish', not the file's): a GET right after a PUT, or during an overwrite, could
// read a short file, and a kill in the middle left a truncated object. Here every file is written
// under a temporary name and renamed: metadata first, then the object, so a reader sees the old
// object or the new one, and a kill leaves at most an unreferenced temporary file.

function temporaryPath(target) {
  temporaryCount += 1;
  return `${target}.partial-${process.pid}-${temporaryCount}`; // never ends in ._S3rver_object
}

async function writeAtomically(target, data) {
  const temporary = temporaryPath(target);
  try {
    await fs.promises.writeFile(temporary, data);
    await fs.promises.rename(temporary, target);
  } catch (error) {
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
}

FilesystemStore.prototype.putMetadata = async function putMetadata(bucket, key, metadata, md5) {
  const kept = {};
  for (const [name, value] of Object.entries(metadata || {})) {
    if (S3Object.ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-')) kept[name] = value;
  }
  if (md5) await writeAtomically(this.getResourcePath(bucket, key, 'object.md5'), md5);
  await writeAtomically(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(kept, null, 2));
};

FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const temporary = temporaryPath(objectPath);
  const md5 = crypto.createHash('md5');
  let size = 0;
  const counting = new Transform({
    transform(chunk, encoding, done) {
      md5.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  try {
    await pipeline(source, counting, fs.createWriteStream(temporary)); // resolves once the file is written
    const digest = md5.digest('hex');
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    await fs.promises.rename(temporary, objectPath);
    return { size, md5: digest };
  } catch (error) {
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
};

// --- names that stay inside the data directory -------------------------------------------------
// s3rver maps a key's segments to directories with path.join, so `..` (opaque to S3) would read and
// write outside the bucket, even outside the data directory. Such names are refused instead.

function refuseKey(key) {
  const error = new S3Error('InvalidArgument', 'The local file-backed S3 cannot store a key with "." or ".." segments', {
    ArgumentName: 'key',
    ArgumentValue: key,
  });
  error.status = 400;
  return error;
}

const originalResourcePath = FilesystemStore.prototype.getResourcePath;

FilesystemStore.prototype.getBucketPath = function getBucketPath(bucket) {
  const root = path.resolve(this.rootDirectory);
  const bucketPath = path.join(root, bucket);
  if (path.dirname(bucketPath) !== root || bucket !== path.basename(bucketPath)) {
    throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
  }
  return bucketPath;
};

FilesystemStore.prototype.getResourcePath = function getResourcePath(bucket, key = '', resource) {
  this.getBucketPath(bucket); // the bucket itself must be a plain name
  if ((key || '').split('/').some(segment => segment === '.' || segment === '..')) throw refuseKey(key);
  return originalResourcePath.call(this, bucket, key, resource);
};

function uploadIdMiddleware() {
  // A multipart upload id names a directory too (s3rver joins it into the path unchecked).
  return async function plainUploadId(ctx, next) {
    const id = ctx.query.uploadId;
    if (typeof id === 'string' && (id.includes('/') || id.includes('\\') || id === '.' || id === '..')) {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: id });
    }
    return next();
  };
}

// --- bucket policies --------------------------------------------------------------------------
// s3rver answers NotImplemented to ?policy; `make up` sets one on the media bucket. Kept as a file
// in the bucket's directory (s3rver lists only *._S3rver_object files as objects, and deleting the
// bucket removes it); like s3rver's other settings it is stored, not enforced.

function policyMiddleware() {
  return async function bucketPolicy(ctx, next) {
    const bucket = ctx.path.replace(/^\/+|\/+$/g, '');
    if (!('policy' in ctx.query) || !bucket || bucket.includes('/')) return next();
    if (!(await ctx.app.store.getBucket(bucket))) {
      throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    }
    const file = ctx.app.store.getResourcePath(bucket, undefined, 'policy.json');
    if (ctx.method === 'PUT') {
      const chunks = [];
      for await (const chunk of ctx.req) chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        JSON.parse(text);
      } catch {
        const malformed = new S3Error('MalformedPolicy', 'Policies must be valid JSON and the first byte must be \'{\'');
        malformed.status = 400; // a code missing from s3rver's status table (it would answer 500)
        malformed.expose = true;
        throw malformed;
      }
      await writeAtomically(file, text);
      ctx.status = 204;
    } else if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      try {
        ctx.body = await fs.promises.readFile(file, 'utf8');
        ctx.type = 'application/json';
      } catch (error) {
        if (error.code !== 'ENOENT') throw error;
        throw new S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', { BucketName: bucket });
      }
    } else if (ctx.method === 'DELETE') {
      await fs.promises.rm(file, { force: true });
      ctx.status = 204;
    } else {
      return next();
    }
  };
}

async function removeLeftoverTemporaries(directory) {
  // What a kill in the middle of a write left (never visible as an object, but it takes space).
  const names = await fs.promises.readdir(directory, { recursive: true });
  await Promise.all(names.filter(name => /\.partial-\d+-\d+$/.test(name))
    .map(name => fs.promises.rm(path.join(directory, name), { force: true })));
}

// --- start, and stop with the parent ----------------------------------------------------------

function readConfig() {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = chunk => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end === -1) return;
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      try {
        resolve(JSON.parse(buffered.slice(0, end)));
      } catch (error) {
        reject(error);
      }
    };
    const onEnd = () => reject(new Error('stdin closed before the configuration line'));
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', onData);
    process.stdin.on('end', onEnd);
  });
}

function useCredentials(credentials) {
  // Exactly the front's key pairs: s3rver's built-in S3RVER/S3RVER pair is revoked unless listed, so an
  // unknown access key is refused (InvalidAccessKeyId) as S3 would. s3rver checks that a SigV4 key
  // exists, not the signature itself (as moto).
  const account = AWSAccount.DUMMY_ACCOUNT;
  for (const key of [...account.accessKeys.keys()]) account.revokeAccessKey(key);
  for (const [key, secret] of Object.entries(credentials)) account.createKeyPair(key, secret);
}

async function main() {
  const config = await readConfig();
  // Watch the parent from now on: until the server runs, stopping is just exiting.
  let stop = () => process.exit(0);
  process.stdin.on('end', () => stop());
  process.stdin.on('close', () => stop());
  process.stdin.resume(); // keep reading so 'end' arrives when the parent's end closes
  const parent = process.ppid;
  // A forked child of the parent may still hold the pipe open: re-parenting tells too.
  setInterval(() => process.ppid !== parent && stop(), PARENT_CHECK_MS).unref();
  process.on('SIGTERM', () => stop());
  process.on('SIGINT', () => stop());

  if (config.title) process.title = config.title;
  useCredentials(config.credentials || {});
  await fs.promises.mkdir(config.directory, { recursive: true });
  await removeLeftoverTemporaries(config.directory);
  const server = new S3rver({
    address: config.host || '127.0.0.1',
    port: config.port || 0,
    directory: config.directory,
    silent: true,
    vhostBuckets: false, // the front forwards path-style requests only
  });
  server.middleware.unshift(uploadIdMiddleware(), policyMiddleware());
  const address = await server.run();

  let stopping = false;
  stop = () => {
    if (stopping) return;
    stopping = true;
    server.httpServer.close(() => process.exit(0));
    server.httpServer.closeIdleConnections();
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
  };
  process.stdout.write(JSON.stringify({ port: address.port }) + '\n');
}

main().catch(error => {
  process.stderr.write(`s3rver: ${error.stack || error}\n`);
  process.exit(1);
});
