/** How the Canvas UI names enrollment types. */
export const ROLE_LABELS: Record<string, string> = {
  StudentEnrollment: 'Student',
  TeacherEnrollment: 'Teacher',
  TaEnrollment: 'TA',
  DesignerEnrollment: 'Designer',
  ObserverEnrollment: 'Observer',
};
