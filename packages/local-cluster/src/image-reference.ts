import { createHash } from 'node:crypto';

/**
 * Container runtimes report fully qualified references: "busybox" becomes
 * "docker.io/library/busybox:latest" (https://kubernetes.io/docs/concepts/containers/images/#image-names).
 */
export function normalizeImage(image: string): string {
  const [first = '', ...rest] = image.split('/');
  const hasRegistry =
    rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const path = hasRegistry ? rest.join('/') : image;
  const registry = hasRegistry ? first : 'docker.io';
  const repository = !hasRegistry && !path.includes('/') ? `library/${path}` : path;
  const lastSegment = repository.split('/').pop() ?? '';
  const tagged = repository.includes('@') || lastSegment.includes(':');

  return `${registry}/${repository}${tagged ? '' : ':latest'}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A stable digest reference, as if the image had been pulled. */
export function imageIdFor(image: string): string {
  const reference = normalizeImage(image);
  const repository = reference.replace(/[:@][^/]*$/, '');
  return `${repository}@sha256:${sha256(reference)}`;
}

/** A stable container ID per pod, container and restart, in the containerd URI form. */
export function containerIdFor(podUid: string, containerName: string, attempt: number): string {
  return `containerd://${sha256(`${podUid}/${containerName}/${attempt}`)}`;
}
