// Every HealthImaging operation through the JavaScript SDK v3, against the local endpoint.
//
// Run by tests/js/test_js_sdk.py, which uploads the DICOM files first and checks what this prints:
// one JSON line per step, {"step": ..., ...}, then {"step": "done"}. Any error ends the run with a
// {"step": "error", ...} line and exit code 1.
//
// The SDK reaches a local endpoint only with the host prefix off (docs/wire.md#host-prefix-injection):
// `disableHostPrefix: true`, plus the endpoint override.

import { gunzipSync } from "node:zlib";
import {
  CopyImageSetCommand,
  CreateDatastoreCommand,
  DeleteDatastoreCommand,
  DeleteImageSetCommand,
  GetDICOMImportJobCommand,
  GetDatastoreCommand,
  GetImageFrameCommand,
  GetImageSetCommand,
  GetImageSetMetadataCommand,
  ListDICOMImportJobsCommand,
  ListDatastoresCommand,
  ListImageSetVersionsCommand,
  ListTagsForResourceCommand,
  MedicalImagingClient,
  ResourceNotFoundException,
  SearchImageSetsCommand,
  StartDICOMImportJobCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateImageSetMetadataCommand,
} from "@aws-sdk/client-medical-imaging";

const env = process.env;
const client = new MedicalImagingClient({
  region: env.AWS_REGION,
  endpoint: env.AHI_ENDPOINT_URL,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  disableHostPrefix: true,
  maxAttempts: 1,
});
const POLL_MS = 25;
const DEADLINE_MS = 30_000;

function say(step, fields = {}) {
  process.stdout.write(JSON.stringify({ step, ...fields }) + "\n");
}

const send = (command) => client.send(command);

async function until(what, probe) {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function imageSetSettled(datastoreId, imageSetId) {
  return until(`image set ${imageSetId} to settle`, async () => {
    const got = await send(new GetImageSetCommand({ datastoreId, imageSetId }));
    return got.imageSetState === "LOCKED" ? undefined : got;
  });
}

async function main() {
  const created = await send(
    new CreateDatastoreCommand({ datastoreName: "js-sdk", tags: { origin: "js" } })
  );
  const datastoreId = created.datastoreId;
  say("CreateDatastore", { datastoreId, datastoreStatus: created.datastoreStatus });
  const active = await until("the data store to be ACTIVE", async () => {
    const got = await send(new GetDatastoreCommand({ datastoreId }));
    return got.datastoreProperties.datastoreStatus === "ACTIVE" ? got.datastoreProperties : undefined;
  });
  say("GetDatastore", { datastoreStatus: active.datastoreStatus, datastoreArn: active.datastoreArn });
  const listed = await send(new ListDatastoresCommand({ datastoreStatus: "ACTIVE" }));
  say("ListDatastores", { ids: listed.datastoreSummaries.map((summary) => summary.datastoreId) });

  const started = await send(
    new StartDICOMImportJobCommand({
      datastoreId,
      jobName: "js-import",
      dataAccessRoleArn: env.AHI_ROLE_ARN,
      inputS3Uri: env.AHI_INPUT_URI,
      outputS3Uri: env.AHI_OUTPUT_URI,
    })
  );
  say("StartDICOMImportJob", { jobId: started.jobId, jobStatus: started.jobStatus });
  const job = await until("the import job to end", async () => {
    const got = await send(new GetDICOMImportJobCommand({ datastoreId, jobId: started.jobId }));
    const status = got.jobProperties.jobStatus;
    return status === "COMPLETED" || status === "FAILED" ? got.jobProperties : undefined;
  });
  say("GetDICOMImportJob", { jobStatus: job.jobStatus, outputS3Uri: job.outputS3Uri });
  const jobs = await send(new ListDICOMImportJobsCommand({ datastoreId, maxResults: 10 }));
  say("ListDICOMImportJobs", { jobIds: jobs.jobSummaries.map((summary) => summary.jobId) });

  const found = await send(
    new SearchImageSetsCommand({
      datastoreId,
      searchCriteria: { filters: [{ operator: "EQUAL", values: [{ DICOMPatientId: env.AHI_PATIENT_ID }] }] },
    })
  );
  const summary = found.imageSetsMetadataSummaries[0];
  say("SearchImageSets", {
    count: found.imageSetsMetadataSummaries.length,
    patientName: summary.DICOMTags.DICOMPatientName,
    storageTier: summary.storageTier,
    hasLastAccessedAt: summary.lastAccessedAt instanceof Date,
  });
  const imageSetId = summary.imageSetId;
  const imageSet = await send(new GetImageSetCommand({ datastoreId, imageSetId }));
  say("GetImageSet", {
    imageSetId,
    imageSetState: imageSet.imageSetState,
    versionId: imageSet.versionId,
    imageSetArn: imageSet.imageSetArn,
    storageTier: imageSet.storageTier,
    createdAtIsDate: imageSet.createdAt instanceof Date,
  });

  const metadataResponse = await send(new GetImageSetMetadataCommand({ datastoreId, imageSetId }));
  let bytes = Buffer.from(await metadataResponse.imageSetMetadataBlob.transformToByteArray());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const document = JSON.parse(bytes.toString("utf8"));
  const series = Object.values(document.Study.Series)[0];
  const instance = Object.values(series.Instances)[0];
  const frame = instance.ImageFrames[0];
  say("GetImageSetMetadata", {
    contentEncoding: metadataResponse.contentEncoding,
    imageSetIdInDocument: document.ImageSetID,
    patientName: document.Patient.DICOM.PatientName,
  });

  const frameResponse = await send(
    new GetImageFrameCommand({ datastoreId, imageSetId, imageFrameInformation: { imageFrameId: frame.ID } })
  );
  const frameBytes = await frameResponse.imageFrameBlob.transformToByteArray();
  say("GetImageFrame", { contentType: frameResponse.contentType, bytes: frameBytes.length, frameSize: frame.FrameSizeInBytes });

  const updates = new TextEncoder().encode(
    JSON.stringify({ SchemaVersion: 1.1, Patient: { DICOM: { PatientName: "Js^Sdk" } } })
  );
  const updated = await send(
    new UpdateImageSetMetadataCommand({
      datastoreId,
      imageSetId,
      latestVersionId: imageSet.versionId,
      updateImageSetMetadataUpdates: { DICOMUpdates: { updatableAttributes: updates } },
    })
  );
  say("UpdateImageSetMetadata", { latestVersionId: updated.latestVersionId, imageSetState: updated.imageSetState });
  const afterUpdate = await imageSetSettled(datastoreId, imageSetId);
  const versions = await send(new ListImageSetVersionsCommand({ datastoreId, imageSetId }));
  say("ListImageSetVersions", {
    versionIds: versions.imageSetPropertiesList.map((item) => item.versionId).sort(),
    state: afterUpdate.imageSetState,
  });

  const copied = await send(
    new CopyImageSetCommand({
      datastoreId,
      sourceImageSetId: imageSetId,
      copyImageSetInformation: { sourceImageSet: { latestVersionId: afterUpdate.versionId } },
    })
  );
  const copyId = copied.destinationImageSetProperties.imageSetId;
  const copy = await imageSetSettled(datastoreId, copyId);
  say("CopyImageSet", { copyId, copyState: copy.imageSetState, workflow: copied.destinationImageSetProperties.imageSetWorkflowStatus });

  await send(new TagResourceCommand({ resourceArn: imageSet.imageSetArn, tags: { reviewed: "yes", team: "js" } }));
  await send(new UntagResourceCommand({ resourceArn: imageSet.imageSetArn, tagKeys: ["team"] }));
  const imageSetTags = await send(new ListTagsForResourceCommand({ resourceArn: imageSet.imageSetArn }));
  const datastoreTags = await send(new ListTagsForResourceCommand({ resourceArn: active.datastoreArn }));
  say("Tags", { imageSet: imageSetTags.tags, datastore: datastoreTags.tags });

  for (const id of [copyId, imageSetId]) {
    const deleted = await send(new DeleteImageSetCommand({ datastoreId, imageSetId: id }));
    say("DeleteImageSet", { imageSetId: id, imageSetState: deleted.imageSetState, workflow: deleted.imageSetWorkflowStatus });
    await until(`image set ${id} to be deleted`, async () => {
      try {
        const got = await send(new GetImageSetCommand({ datastoreId, imageSetId: id }));
        return got.imageSetState === "DELETED" ? true : undefined;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return true;
        throw error;
      }
    });
  }
  let missing;
  try {
    await send(new GetImageSetCommand({ datastoreId, imageSetId: "0".repeat(32) }));
  } catch (error) {
    missing = { name: error.name, status: error.$metadata.httpStatusCode, isClass: error instanceof ResourceNotFoundException };
  }
  say("NotFound", missing);

  const left = await send(new SearchImageSetsCommand({ datastoreId }));
  for (const item of left.imageSetsMetadataSummaries) {
    await send(new DeleteImageSetCommand({ datastoreId, imageSetId: item.imageSetId }));
    await until(`image set ${item.imageSetId} to be deleted`, async () => {
      const rest = await send(new SearchImageSetsCommand({ datastoreId }));
      return rest.imageSetsMetadataSummaries.some((other) => other.imageSetId === item.imageSetId) ? undefined : true;
    });
  }
  const deleting = await send(new DeleteDatastoreCommand({ datastoreId }));
  say("DeleteDatastore", { datastoreStatus: deleting.datastoreStatus });
  say("done");
}

main().catch((error) => {
  say("error", { name: error?.name, message: String(error?.message ?? error), stack: String(error?.stack ?? "") });
  process.exit(1);
});
