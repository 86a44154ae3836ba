// Photos for the outbox (issue 16): each picture taken or chosen on the phone is scaled down in
// the page to at most 2 megapixels, encoded as JPEG (quality 0.85), and hashed (SHA-256, Web
// Crypto). The Blob returned is what the outbox stores and sends, byte for byte, so that the
// platform can check the hash taken here against what it receives.
(() => {
  "use strict";
  const MAX_PIXELS = 2_000_000;
  const QUALITY = 0.85;

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function sha256(blob) {
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return hex(digest);
  }

  async function decode(file) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (e) {
      // An older engine without the options, or a format createImageBitmap does not take.
      try {
        return await createImageBitmap(file);
      } catch (e2) {
        return await new Promise((resolve, reject) => {
          const url = URL.createObjectURL(file);
          const img = new Image();
          img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
          img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("not an image")); };
          img.src = url;
        });
      }
    }
  }

  function encode(source, width, height) {
    if (typeof OffscreenCanvas !== "undefined") {
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext("2d");
      if (ctx && canvas.convertToBlob) {
        ctx.imageSmoothingQuality = "high";
        ctx.drawImage(source, 0, 0, width, height);
        return canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
      }
    }
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(source, 0, 0, width, height);
    return new Promise((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encode failed"))),
        "image/jpeg", QUALITY);
    });
  }

  // A photo ready for the outbox: {blob, type, size, sha256, width, height, original_name}.
  // A JPEG already within 2 megapixels is kept as it is (not encoded twice); anything else is
  // drawn at its size, or scaled down, and encoded as JPEG.
  async function prepare(file) {
    const image = await decode(file);
    const width0 = image.width || image.naturalWidth;
    const height0 = image.height || image.naturalHeight;
    if (!width0 || !height0) throw new Error("empty image");
    const scale = Math.min(1, Math.sqrt(MAX_PIXELS / (width0 * height0)));
    let blob;
    let width = width0;
    let height = height0;
    if (scale === 1 && file.type === "image/jpeg") {
      // The same bytes, read now: a camera's file may be gone by the time the entry is queued.
      blob = new Blob([await file.arrayBuffer()], { type: "image/jpeg" });
    } else {
      width = Math.max(1, Math.floor(width0 * scale));
      height = Math.max(1, Math.floor(height0 * scale));
      blob = await encode(image, width, height);
    }
    if (image.close) image.close();
    return {
      blob,
      type: "image/jpeg",
      size: blob.size,
      sha256: await sha256(blob),
      width,
      height,
      original_name: file.name || "",
    };
  }

  window.FieldPhotos = { MAX_PIXELS, QUALITY, prepare, sha256 };
})();
