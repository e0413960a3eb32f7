// A job's log and /output folder as downloads, from its row or its log page.
import { download } from "../../src/client/stream";
import { baseUrl, currentToken } from "./session";

export const JOB_OUTPUT_TITLE = "The job's /output folder as a tar archive";

/** Saves the job's whole log as `<name>.log`. */
export const downloadJobLog = (id: string, name: string) =>
  download(`${baseUrl}/api/jobs/${id}/log`, currentToken(), `${name}.log`);

/** Saves the job's /output folder as `<name>-output.tar`. */
export const downloadJobOutput = (id: string, name: string) =>
  download(`${baseUrl}/api/jobs/${id}/output.tar`, currentToken(), `${name}-output.tar`);
