// The breadcrumbs above a workspace's pages: the workspace, then the section a detail page is in.
import { Link, path } from "../router";

export function WorkspaceCrumbs(props: { ws: string; section?: "Trainings" | "Datasets"; item?: string }) {
  const { ws, section, item } = props;
  const sectionPath = section?.toLowerCase() ?? "";
  return (
    <>
      <Link href={path("workspaces", ws)}>{ws}</Link>
      {section ? (
        <>
          {" "}
          › <Link href={path("workspaces", ws, sectionPath)}>{section}</Link>
        </>
      ) : null}
      {section && item ? (
        <>
          {" "}
          › <Link href={path("workspaces", ws, sectionPath, item)}>{item}</Link>
        </>
      ) : null}
    </>
  );
}
