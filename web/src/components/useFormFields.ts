// A dialog's form as one object of text fields.
import { useState } from "react";

/** The form's values and `set(key)`, the onChange that writes one field from its input. */
export function useFormFields<F extends object>(initial: F) {
  const [form, setForm] = useState(initial);
  const set = (key: keyof F) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  return { form, setForm, set };
}
